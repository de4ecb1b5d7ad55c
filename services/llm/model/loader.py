"""Load a Hugging Face folder (config.json + safetensors + tokenizer) or a GGUF file onto kefu's
model code. Nothing is fetched from a hub: paths only."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from services.llm.model.config import ModelConfig
from services.llm.model.moe import MoE
from services.llm.model.transformer import CausalLM

log = logging.getLogger("kefu.llm.loader")

_EXPERT = re.compile(r"^model\.layers\.(\d+)\.mlp\.experts\.(\d+)\.(gate|up|down)_proj\.weight$")
_FUSED = re.compile(r"^model\.layers\.(\d+)\.mlp\.experts\.(gate_up_proj|down_proj)$")
_LAYER = re.compile(r"^model\.layers\.(\d+)\.")


@dataclass
class LoadedModel:
    model: CausalLM
    tokenizer: Any  # transformers PreTrainedTokenizerBase
    config: ModelConfig
    name: str
    path: str
    load_s: float


def _safetensor_items(folder: Path) -> Iterator[tuple[str, torch.Tensor]]:
    from safetensors import safe_open

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"no *.safetensors in {folder}")
    for f in files:
        with safe_open(str(f), framework="pt") as fh:
            for key in fh.keys():
                yield key, fh.get_tensor(key)


def load_weights(model: CausalLM, items: Iterable[tuple[str, torch.Tensor]]) -> None:
    """Copy checkpoint tensors in by name; routed experts are stacked into [E, ...] tensors."""
    params = dict(model.named_parameters())
    params.update(dict(model.named_buffers()))
    seen: set[str] = set()
    with torch.no_grad():
        for key, t in items:
            name = _copy_tensor(model, params, key, t)
            if name is not None:
                seen.add(name)
    missing = _missing(model, seen)
    if missing:
        raise ValueError(f"checkpoint lacks {len(missing)} tensors, e.g. {missing[:5]}")


def _copy_tensor(model: CausalLM, params: dict[str, torch.Tensor], key: str, t: torch.Tensor) -> str | None:
    """Copy one checkpoint tensor into its place; the name it fills (None: a tensor kefu skips)."""
    cfg = model.config
    m = _LAYER.match(key)
    if m and int(m.group(1)) >= cfg.num_hidden_layers:
        return None  # DeepSeek's multi-token-prediction layers: not used for decoding
    if key.endswith("rotary_emb.inv_freq"):
        return None
    if (e := _EXPERT.match(key)) is not None:
        return _copy_expert(model, int(e.group(1)), int(e.group(2)), e.group(3), t)
    if (f := _FUSED.match(key)) is not None:
        experts = model.model.layers[int(f.group(1))].mlp.experts
        (experts.gate_up if f.group(2) == "gate_up_proj" else experts.down).copy_(t)
        return key
    if key not in params:
        raise KeyError(f"checkpoint tensor {key!r} has no place in kefu's {cfg.arch} model")
    if params[key].shape != t.shape:
        raise ValueError(f"{key}: checkpoint shape {tuple(t.shape)} != model {tuple(params[key].shape)}")
    params[key].copy_(t)
    return key


def _copy_expert(model: CausalLM, layer: int, ex: int, kind: str, t: torch.Tensor) -> str:
    """One expert's gate, up or down matrix into its row of the layer's stacked tensors."""
    inter = model.config.moe_intermediate_size
    experts = model.model.layers[layer].mlp.experts
    if kind == "gate":
        experts.gate_up[ex, :inter].copy_(t)
    elif kind == "up":
        experts.gate_up[ex, inter:].copy_(t)
    else:
        experts.down[ex].copy_(t)
    return f"model.layers.{layer}.mlp.experts.{kind}.{ex}"


def _missing(model: CausalLM, seen: set[str]) -> list[str]:
    """Parameters the checkpoint did not fill (a tied lm_head needs none; experts count per layer)."""
    cfg = model.config
    missing = []
    for name, _ in model.named_parameters():
        if name.endswith("experts.gate_up") or name.endswith("experts.down"):
            continue
        if name not in seen and not (name == "lm_head.weight" and cfg.tie_word_embeddings):
            missing.append(name)
    for i, moe in model.moe_layers():
        assert isinstance(moe, MoE)
        fused = f"model.layers.{i}.mlp.experts.gate_up_proj" in seen
        n = sum(1 for s in seen if s.startswith(f"model.layers.{i}.mlp.experts."))
        if not fused and n < 3 * cfg.n_routed_experts:
            missing.append(f"model.layers.{i}.mlp.experts (got {n} of {3 * cfg.n_routed_experts} tensors)")
    return missing


def _eos_ids(folder: Path, cfg: ModelConfig, tokenizer: Any) -> list[int]:
    ids = list(cfg.eos_token_ids)
    gen = folder / "generation_config.json"
    if gen.exists():
        eos = json.loads(gen.read_text()).get("eos_token_id")
        ids += [eos] if isinstance(eos, int) else list(eos or [])
    if tokenizer is not None and getattr(tokenizer, "eos_token_id", None) is not None:
        ids.append(int(tokenizer.eos_token_id))
    return sorted(set(ids))


def load_hf_folder(path: str | Path, dtype: torch.dtype = torch.float32, device: str = "cpu",
                   name: str | None = None) -> LoadedModel:
    from transformers import AutoTokenizer

    t0 = time.perf_counter()
    folder = Path(path)
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"{folder} has no config.json (expected a Hugging Face model folder)")
    cfg = ModelConfig.from_file(folder / "config.json")
    with torch.device("meta"):
        model = CausalLM(cfg)
    model = model.to_empty(device=device)
    model.reset_buffers()  # non-persistent buffers are not in the checkpoint
    load_weights(model, _safetensor_items(folder))
    model.cast(dtype).eval()
    tok = AutoTokenizer.from_pretrained(str(folder))
    cfg.eos_token_ids = _eos_ids(folder, cfg, tok)
    dt = time.perf_counter() - t0
    log.info("loaded %s (%s, %.1f M params) in %.1fs", folder, cfg.arch, param_count(model) / 1e6, dt)
    return LoadedModel(model, tok, cfg, name or folder.name, str(folder), dt)


def load_gguf(file: str | Path, dtype: torch.dtype = torch.float32, device: str = "cpu",
              name: str | None = None) -> LoadedModel:
    """GGUF (e.g. SmolLM2's Q4_1): transformers dequantizes it, then the weights move onto our code."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
    file = Path(file)
    log.info("dequantizing %s (this takes ~40 s on 2 cores)", file.name)
    hf = AutoModelForCausalLM.from_pretrained(str(file.parent), gguf_file=file.name, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(str(file.parent), gguf_file=file.name)
    d = hf.config.to_dict()
    d.setdefault("architectures", [type(hf).__name__])
    cfg = ModelConfig.from_dict(d)
    model = CausalLM(cfg)
    sd = hf.state_dict()
    if cfg.tie_word_embeddings:
        sd.pop("lm_head.weight", None)
    load_weights(model, sd.items())
    del hf
    model.to(device)
    model.cast(dtype).eval()
    cfg.eos_token_ids = _eos_ids(file.parent, cfg, tok)
    dt = time.perf_counter() - t0
    return LoadedModel(model, tok, cfg, name or file.stem, str(file), dt)


def param_count(model: torch.nn.Module) -> int:
    seen: set[int] = set()
    total = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total
