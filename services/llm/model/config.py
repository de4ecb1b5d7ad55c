"""Model configuration read from a Hugging Face `config.json`.

One dataclass covers both families kefu serves (DeepSeek-V3 MoE with latent attention, and dense
Llama with grouped-query attention) so the decoder stack has a single code path with two kinds of
attention and two kinds of feed-forward.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEEPSEEK_ARCHS = {"DeepseekV3ForCausalLM", "DeepseekV2ForCausalLM"}
LLAMA_ARCHS = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"}


@dataclass
class ModelConfig:
    arch: str  # "deepseek_v3" | "llama"
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    max_position_embeddings: int
    rms_norm_eps: float = 1e-6
    hidden_act: str = "silu"
    tie_word_embeddings: bool = False
    attention_bias: bool = False
    mlp_bias: bool = False
    head_dim: int | None = None  # llama: per-head dim
    # rope
    rope: dict[str, Any] = field(default_factory=lambda: {"rope_type": "default", "rope_theta": 10000.0})
    rope_interleave: bool = False
    # DeepSeek MLA
    q_lora_rank: int | None = None
    kv_lora_rank: int = 0
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    # DeepSeek MoE
    n_routed_experts: int = 0
    num_experts_per_tok: int = 0
    n_shared_experts: int = 0
    moe_intermediate_size: int = 0
    first_k_dense_replace: int = 0
    moe_layer_freq: int = 1
    n_group: int = 1
    topk_group: int = 1
    norm_topk_prob: bool = True
    routed_scaling_factor: float = 1.0
    scoring_func: str = "sigmoid"  # "softmax" (seed / DeepSeek-V2) or "sigmoid" (DeepSeek-V3)
    topk_method: str = "noaux_tc"  # "greedy" | "group_limited_greedy" | "noaux_tc"
    bos_token_id: int | None = None
    eos_token_ids: list[int] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_moe(self) -> bool:
        return self.arch == "deepseek_v3" and self.n_routed_experts > 0

    def is_moe_layer(self, idx: int) -> bool:
        return self.is_moe and idx >= self.first_k_dense_replace and idx % max(self.moe_layer_freq, 1) == 0

    @property
    def rope_dim(self) -> int:
        if self.arch == "deepseek_v3":
            return self.qk_rope_head_dim
        return self.head_dim or self.hidden_size // self.num_attention_heads

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        arch = _arch_of(d)
        heads = int(d["num_attention_heads"])
        eos = d.get("eos_token_id")
        eos_ids = [eos] if isinstance(eos, int) else list(eos or [])
        cfg = cls(
            arch=arch,
            vocab_size=int(d["vocab_size"]),
            hidden_size=int(d["hidden_size"]),
            intermediate_size=int(d["intermediate_size"]),
            num_hidden_layers=int(d["num_hidden_layers"]),
            num_attention_heads=heads,
            num_key_value_heads=int(d.get("num_key_value_heads") or heads),
            max_position_embeddings=int(d.get("max_position_embeddings", 2048)),
            rms_norm_eps=float(d.get("rms_norm_eps", 1e-6)),
            hidden_act=d.get("hidden_act", "silu"),
            tie_word_embeddings=bool(d.get("tie_word_embeddings", False)),
            attention_bias=bool(d.get("attention_bias", False)),
            mlp_bias=bool(d.get("mlp_bias", False)),
            head_dim=d.get("head_dim"),
            rope=_rope_of(d),
            bos_token_id=d.get("bos_token_id"),
            eos_token_ids=[int(e) for e in eos_ids if e is not None],
            raw=d,
        )
        if arch == "deepseek_v3":
            cfg._read_deepseek(d)
        return cfg

    def _read_deepseek(self, d: dict[str, Any]) -> None:
        """MLA and MoE fields of a DeepSeek-V3 (or V2) config."""
        self.rope_interleave = bool(d.get("rope_interleave", True))
        self.q_lora_rank = d.get("q_lora_rank")
        self.kv_lora_rank = int(d["kv_lora_rank"])
        self.qk_nope_head_dim = int(d["qk_nope_head_dim"])
        self.qk_rope_head_dim = int(d["qk_rope_head_dim"])
        self.v_head_dim = int(d.get("v_head_dim") or d["qk_nope_head_dim"])
        self.n_routed_experts = int(d.get("n_routed_experts") or 0)
        self.num_experts_per_tok = int(d.get("num_experts_per_tok") or 0)
        self.n_shared_experts = int(d.get("n_shared_experts") or 0)
        self.moe_intermediate_size = int(d.get("moe_intermediate_size") or 0)
        self.first_k_dense_replace = int(d.get("first_k_dense_replace") or 0)
        self.moe_layer_freq = int(d.get("moe_layer_freq") or 1)
        self.n_group = int(d.get("n_group") or 1)
        self.topk_group = int(d.get("topk_group") or 1)
        self.norm_topk_prob = bool(d.get("norm_topk_prob", True))
        self.routed_scaling_factor = float(d.get("routed_scaling_factor") or 1.0)
        # transformers' DeepseekV3 always scores with sigmoid + correction bias; DeepSeek-V2
        # checkpoints say `scoring_func: softmax`, and so may kefu's own configs.
        model_type = d.get("model_type", "")
        self.scoring_func = d.get("scoring_func", "sigmoid" if model_type != "deepseek_v2" else "softmax")
        self.topk_method = d.get("topk_method", "noaux_tc" if self.scoring_func == "sigmoid" else "greedy")

    @classmethod
    def from_file(cls, path: str | Path) -> ModelConfig:
        return cls.from_dict(json.loads(Path(path).read_text()))


def _arch_of(d: dict[str, Any]) -> str:
    """kefu's name for the checkpoint's architecture family (an unsupported one is refused)."""
    archs = set(d.get("architectures") or [])
    model_type = d.get("model_type", "")
    if archs & DEEPSEEK_ARCHS or model_type in {"deepseek_v3", "deepseek_v2"}:
        return "deepseek_v3"
    if archs & LLAMA_ARCHS or model_type in {"llama", "mistral", "qwen2"}:
        return "llama"
    raise ValueError(f"unsupported architecture {sorted(archs) or model_type!r}: "
                     "kefu serves DeepseekV3ForCausalLM and LlamaForCausalLM")


def _rope_of(d: dict[str, Any]) -> dict[str, Any]:
    """RoPE parameters: transformers>=5 writes `rope_parameters`; older checkpoints (and DeepSeek's
    own) write `rope_theta` + `rope_scaling` with `type`."""
    rope = dict(d.get("rope_parameters") or d.get("rope_scaling") or {})
    rope.setdefault("rope_type", rope.pop("type", "default") if "type" in rope else "default")
    rope.setdefault("rope_theta", float(d.get("rope_theta", 10000.0)))
    if rope["rope_type"] in {"yarn", "llama3", "longrope"}:
        rope.setdefault("original_max_position_embeddings",
                        d.get("original_max_position_embeddings", d.get("max_position_embeddings")))
    return rope
