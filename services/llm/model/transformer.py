"""The decoder stack: embeddings, N x (RMSNorm -> attention -> RMSNorm -> MLP or MoE), head.

Module names mirror transformers' (`model.layers.3.self_attn.kv_b_proj`, ...) so a checkpoint's
state dict loads by name; only routed experts are restacked (see loader.py).
"""

from __future__ import annotations

import torch
from torch import nn

from services.llm.model.attention import GQAttention, MLAttention
from services.llm.model.batch import StepBatch
from services.llm.model.config import ModelConfig
from services.llm.model.layers import GatedMLP, RMSNorm, Rotary
from services.llm.model.moe import MoE

KVCache = list[tuple[torch.Tensor, ...]]


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, idx: int) -> None:
        super().__init__()
        self.self_attn = MLAttention(cfg) if cfg.arch == "deepseek_v3" else GQAttention(cfg)
        if cfg.is_moe_layer(idx):
            self.mlp: nn.Module = MoE(cfg)
        else:
            self.mlp = GatedMLP(cfg.hidden_size, cfg.intermediate_size, cfg.hidden_act, cfg.mlp_bias)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x: torch.Tensor, b: StepBatch, rotary: Rotary, cos: torch.Tensor,
                sin: torch.Tensor, cache: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), b, rotary, cos, sin, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg, i) for i in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary = Rotary(cfg)


class CausalLM(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        self.model = Backbone(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        if cfg.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    @property
    def dtype(self) -> torch.dtype:
        return self.model.embed_tokens.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.model.embed_tokens.weight.device

    def cast(self, dtype: torch.dtype) -> CausalLM:
        """Change the weights' dtype; routers and rope stay float32 (as transformers keeps them)."""
        self.to(dtype)
        for _, moe in self.moe_layers():
            moe.gate.float()
        self.reset_buffers()
        return self

    def reset_buffers(self) -> None:
        """Recompute buffers that checkpoints do not carry (after building on the meta device)."""
        from services.llm.model.layers import rope_inv_freq

        if self.config.tie_word_embeddings:  # to_empty() unties shared parameters
            self.lm_head.weight = self.model.embed_tokens.weight
        with torch.no_grad():
            self.model.rotary.inv_freq = rope_inv_freq(self.config)[0].to(self.device)
            for _, moe in self.moe_layers():
                moe.expert_counts = torch.zeros_like(moe.expert_counts)

    def moe_layers(self) -> list[tuple[int, MoE]]:
        return [(i, layer.mlp) for i, layer in enumerate(self.model.layers) if isinstance(layer.mlp, MoE)]

    def allocate_cache(self, slots: int, max_len: int, dtype: torch.dtype | None = None) -> KVCache:
        """Preallocate every layer's cache: [slots, max_len, ...] per tensor (no reallocation later)."""
        dtype = dtype or self.dtype
        return [
            tuple(torch.zeros((slots, max_len, *shape), dtype=dtype, device=self.device)
                  for shape in layer.self_attn.cache_shape())
            for layer in self.model.layers
        ]

    def cache_bytes_per_token(self) -> int:
        elems = sum(int(torch.tensor(s).prod()) for layer in self.model.layers for s in layer.self_attn.cache_shape())
        return elems * self.dtype.itemsize

    @torch.inference_mode()
    def forward(self, b: StepBatch, cache: KVCache, all_logits: bool = False) -> torch.Tensor:
        """Logits of each sequence's last new token [B, V] (or of every new token [N, V])."""
        x = self.model.embed_tokens(b.input_ids)
        cos, sin = self.model.rotary.cos_sin(b.positions, x.dtype)
        for layer, layer_cache in zip(self.model.layers, cache, strict=True):
            x = layer(x, b, self.model.rotary, cos, sin, layer_cache)
        if not all_logits:
            x = x.index_select(0, b.last_index)
        return self.lm_head(self.model.norm(x)).float()
