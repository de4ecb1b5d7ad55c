"""Attention over a per-slot preallocated KV cache: DeepSeek multi-head latent attention (MLA)
and Llama multi-head / grouped-query attention (GQA).

MLA caches only the compressed latent (`kv_lora_rank` + `qk_rope_head_dim` numbers per token,
shared by all heads) and attends in latent space: the key up-projection is absorbed into the
query and the value up-projection is applied after attention. This is the same math as
transformers' expand-then-attend path (up to float rounding) with a cache 10-50x smaller.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from services.llm.model.batch import StepBatch
from services.llm.model.config import ModelConfig
from services.llm.model.layers import RMSNorm, Rotary, softmax_scale


class MLAttention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        h = cfg.hidden_size
        self.n_heads = cfg.num_attention_heads
        self.nope, self.rope, self.vdim = cfg.qk_nope_head_dim, cfg.qk_rope_head_dim, cfg.v_head_dim
        self.kv_lora = cfg.kv_lora_rank
        qk = self.nope + self.rope
        self.q_lora_rank = cfg.q_lora_rank
        if cfg.q_lora_rank is None:
            self.q_proj = nn.Linear(h, self.n_heads * qk, bias=False)
        else:
            self.q_a_proj = nn.Linear(h, cfg.q_lora_rank, bias=cfg.attention_bias)
            self.q_a_layernorm = RMSNorm(cfg.q_lora_rank)
            self.q_b_proj = nn.Linear(cfg.q_lora_rank, self.n_heads * qk, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(h, self.kv_lora + self.rope, bias=cfg.attention_bias)
        self.kv_a_layernorm = RMSNorm(self.kv_lora)
        self.kv_b_proj = nn.Linear(self.kv_lora, self.n_heads * (self.nope + self.vdim), bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.vdim, h, bias=cfg.attention_bias)
        self.scale = softmax_scale(cfg, qk)

    def cache_shape(self) -> tuple[tuple[int, ...], ...]:
        return ((self.kv_lora + self.rope,),)

    def forward(self, x: torch.Tensor, b: StepBatch, rotary: Rotary, cos: torch.Tensor,
                sin: torch.Tensor, cache: tuple[torch.Tensor, ...]) -> torch.Tensor:
        n = x.shape[0]
        if self.q_lora_rank is None:
            q = self.q_proj(x)
        else:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q = q.view(n, self.n_heads, self.nope + self.rope)
        q_nope, q_rope = q.split([self.nope, self.rope], dim=-1)
        q_rope = rotary.apply(q_rope, cos, sin)
        ckv, k_rope = self.kv_a_proj_with_mqa(x).split([self.kv_lora, self.rope], dim=-1)
        ckv = self.kv_a_layernorm(ckv)
        k_rope = rotary.apply(k_rope[:, None, :], cos, sin)[:, 0]
        (lat,) = cache
        lat[b.token_slot, b.positions] = torch.cat([ckv, k_rope], dim=-1).to(lat.dtype)

        wkv = self.kv_b_proj.weight.view(self.n_heads, self.nope + self.vdim, self.kv_lora)
        w_uk, w_uv = wkv[:, : self.nope], wkv[:, self.nope:]
        q_lat = torch.einsum("nhd,hdc->nhc", q_nope, w_uk)  # absorb the key up-projection
        qq = torch.cat([q_lat, q_rope], dim=-1)  # [N, H, kv_lora + rope]
        qp = b.pad(qq)  # [B, Tq, H, D]
        bsz, tq = qp.shape[:2]
        keys = lat[b.slots, : b.kv_span]  # [B, S, D]
        mask = b.mask[:, :, None, :].expand(bsz, tq, self.n_heads, b.kv_span).reshape(bsz, 1, tq * self.n_heads, -1)
        o = F.scaled_dot_product_attention(
            qp.reshape(bsz, 1, tq * self.n_heads, -1), keys[:, None], keys[:, None, :, : self.kv_lora],
            attn_mask=mask, scale=self.scale,
        )  # [B, 1, Tq*H, kv_lora]
        o = b.unpad(o.view(bsz, tq, self.n_heads, self.kv_lora))  # [N, H, kv_lora]
        o = torch.einsum("nhc,hvc->nhv", o, w_uv)  # value up-projection after attention
        return self.o_proj(o.reshape(n, self.n_heads * self.vdim))


class GQAttention(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        h = cfg.hidden_size
        self.n_heads, self.n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
        self.hd = cfg.head_dim or h // self.n_heads
        bias = cfg.attention_bias
        self.q_proj = nn.Linear(h, self.n_heads * self.hd, bias=bias)
        self.k_proj = nn.Linear(h, self.n_kv * self.hd, bias=bias)
        self.v_proj = nn.Linear(h, self.n_kv * self.hd, bias=bias)
        self.o_proj = nn.Linear(self.n_heads * self.hd, h, bias=bias)
        self.scale = self.hd ** -0.5

    def cache_shape(self) -> tuple[tuple[int, ...], ...]:
        return ((self.n_kv, self.hd), (self.n_kv, self.hd))

    def forward(self, x: torch.Tensor, b: StepBatch, rotary: Rotary, cos: torch.Tensor,
                sin: torch.Tensor, cache: tuple[torch.Tensor, ...]) -> torch.Tensor:
        n = x.shape[0]
        q = rotary.apply(self.q_proj(x).view(n, self.n_heads, self.hd), cos, sin)
        k = rotary.apply(self.k_proj(x).view(n, self.n_kv, self.hd), cos, sin)
        v = self.v_proj(x).view(n, self.n_kv, self.hd)
        kc, vc = cache
        kc[b.token_slot, b.positions] = k.to(kc.dtype)
        vc[b.token_slot, b.positions] = v.to(vc.dtype)
        qp = b.pad(q).transpose(1, 2)  # [B, H, Tq, D]
        keys = kc[b.slots, : b.kv_span].transpose(1, 2)  # [B, Hkv, S, D]
        vals = vc[b.slots, : b.kv_span].transpose(1, 2)
        o = F.scaled_dot_product_attention(qp, keys, vals, attn_mask=b.mask[:, None], scale=self.scale,
                                           enable_gqa=self.n_kv != self.n_heads)
        o = b.unpad(o.transpose(1, 2))  # [N, H, D]
        return self.o_proj(o.reshape(n, self.n_heads * self.hd))
