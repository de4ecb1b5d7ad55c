"""Small building blocks: RMSNorm, rotary embeddings (default, linear, llama3, yarn), gated MLP.

The math follows transformers 5.x (`modeling_llama.py`, `modeling_deepseek_v3.py`,
`modeling_rope_utils.py`) so that logits match to float32 rounding; the parity tests hold us to it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from services.llm.model.config import ModelConfig

ACTS = {"silu": F.silu, "gelu": F.gelu, "relu": F.relu}


class RMSNorm(nn.Module):
    """Normalise in float32 (bf16 variance is too coarse), scale in the input dtype."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def _yarn_mscale(scale: float, mscale: float = 1.0) -> float:
    return 1.0 if scale <= 1 else 0.1 * mscale * math.log(scale) + 1.0


def rope_inv_freq(cfg: ModelConfig) -> tuple[torch.Tensor, float]:
    """Inverse frequencies and the cos/sin scale ("attention factor") for the config's RoPE type."""
    p = cfg.rope
    kind = p.get("rope_type", "default")
    base = float(p.get("rope_theta", 10000.0))
    dim = int(cfg.rope_dim * float(p.get("partial_rotary_factor", 1.0)))
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    if kind == "default":
        return inv, 1.0
    if kind == "linear":
        return inv / float(p["factor"]), 1.0
    if kind == "llama3":
        factor, lo, hi = float(p["factor"]), float(p["low_freq_factor"]), float(p["high_freq_factor"])
        old = float(p["original_max_position_embeddings"])
        wavelen = 2 * math.pi / inv
        out = torch.where(wavelen > old / lo, inv / factor, inv)
        smooth = (old / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * out / factor + smooth * out
        medium = ~(wavelen < old / hi) * ~(wavelen > old / lo)
        return torch.where(medium, smoothed, out), 1.0
    if kind == "yarn":
        orig = float(p["original_max_position_embeddings"])
        factor = p.get("factor") or cfg.max_position_embeddings / orig
        factor = float(factor)
        att = p.get("attention_factor")
        ms, ms_all = p.get("mscale"), p.get("mscale_all_dim")
        if att is None:
            att = (_yarn_mscale(factor, ms) / _yarn_mscale(factor, ms_all)) if ms and ms_all \
                else _yarn_mscale(factor)
        beta_fast, beta_slow = p.get("beta_fast") or 32, p.get("beta_slow") or 1

        def corr_dim(rot: float) -> float:
            return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        low, high = corr_dim(beta_fast), corr_dim(beta_slow)
        if p.get("truncate", True):
            low, high = math.floor(low), math.ceil(high)
        low, high = max(low, 0), min(high, dim - 1)
        if low == high:
            high += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low), 0, 1)
        extra = 1 - ramp
        pos = base ** (torch.arange(0, dim, 2).float() / dim)
        inv = (1.0 / (factor * pos)) * (1 - extra) + (1.0 / pos) * extra
        return inv, float(att)
    raise ValueError(f"unsupported rope_type {kind!r}")


def softmax_scale(cfg: ModelConfig, head_dim: int) -> float:
    """1/sqrt(d), times YaRN's mscale(factor, mscale_all_dim)^2 for DeepSeek (as its reference code)."""
    scale = head_dim ** -0.5
    p = cfg.rope
    if cfg.arch == "deepseek_v3" and p.get("rope_type", "default") != "default" and p.get("mscale_all_dim"):
        m = _yarn_mscale(float(p["factor"]), float(p["mscale_all_dim"]))
        scale = scale * m * m
    return scale


class Rotary(nn.Module):
    """cos/sin tables indexed by absolute position; `interleave` is DeepSeek's pairwise layout."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        inv, self.att = rope_inv_freq(cfg)
        self.register_buffer("inv_freq", inv, persistent=False)
        self.interleave = cfg.rope_interleave

    def cos_sin(self, positions: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        freqs = positions[:, None].float() * self.inv_freq.float()[None, :]  # [N, dim/2]
        return (freqs.cos() * self.att).to(dtype), (freqs.sin() * self.att).to(dtype)

    def apply(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """x: [N, heads, dim]; cos/sin: [N, dim/2]."""
        c, s = cos[:, None, :], sin[:, None, :]
        if self.interleave:
            x1, x2 = x[..., 0::2], x[..., 1::2]
        else:
            half = x.shape[-1] // 2
            x1, x2 = x[..., :half], x[..., half:]
        # both layouts produce the de-interleaved [x1', x2'] order transformers uses
        return torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)


class GatedMLP(nn.Module):
    """SwiGLU feed-forward (dense layers and DeepSeek's shared experts)."""

    def __init__(self, hidden: int, inter: int, act: str = "silu", bias: bool = False) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inter, bias=bias)
        self.up_proj = nn.Linear(hidden, inter, bias=bias)
        self.down_proj = nn.Linear(inter, hidden, bias=bias)
        self.act = ACTS[act]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))
