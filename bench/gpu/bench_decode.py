"""Decode throughput on one GPU: kefu's engine model vs transformers' DeepseekV3 on the same random
weights (DeepSeek-V2-Lite-sized config, bf16, nothing downloaded), at batch 1/16/64, against the
memory-bandwidth floor (every decode step must read the touched weights and the KV cache once).

    python bench/gpu/bench_decode.py                # H200: ~31 GB per model copy, < 8 min
    python bench/gpu/bench_decode.py --tiny         # CPU smoke run with a tiny config

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from services.llm.model.batch import StepBatch
from services.llm.model.config import ModelConfig
from services.llm.model.loader import load_weights
from services.llm.model.transformer import CausalLM

V2_LITE = dict(  # DeepSeek-V2-Lite shapes (15.7 B params, 2.4 B active), DeepseekV3 routing
    vocab_size=102400, hidden_size=2048, intermediate_size=10944, moe_intermediate_size=1408,
    num_hidden_layers=27, num_attention_heads=16, num_key_value_heads=16, q_lora_rank=None, kv_lora_rank=512,
    qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, n_routed_experts=64, num_experts_per_tok=6,
    n_shared_experts=2, first_k_dense_replace=1, n_group=1, topk_group=1, norm_topk_prob=False,
    routed_scaling_factor=1.0, max_position_embeddings=4096,
)
TINY = dict(
    vocab_size=1000, hidden_size=128, intermediate_size=256, moe_intermediate_size=64, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=4, q_lora_rank=None, kv_lora_rank=32, qk_nope_head_dim=16,
    qk_rope_head_dim=16, v_head_dim=32, n_routed_experts=16, num_experts_per_tok=2, n_shared_experts=1,
    first_k_dense_replace=1, n_group=1, topk_group=1, max_position_embeddings=512,
)


def sync(dev: str) -> None:
    if dev == "cuda":
        torch.cuda.synchronize()


@torch.inference_mode()
def ours_decode(lm: CausalLM, b: int, prompt: int, steps: int, dev: str) -> float:
    cache = lm.allocate_cache(b, prompt + steps + 2)
    ids = torch.randint(3, lm.config.vocab_size, (b, prompt)).tolist()
    logits = lm(StepBatch.build([(i, ids[i], 0) for i in range(b)], device=dev), cache)
    nxt = logits.argmax(-1).tolist()
    lm(StepBatch.build([(i, [nxt[i]], prompt) for i in range(b)], device=dev), cache)  # warm-up step
    sync(dev)
    t0 = time.perf_counter()
    for s in range(steps):
        logits = lm(StepBatch.build([(i, [nxt[i]], prompt + 1 + s) for i in range(b)], device=dev), cache)
        nxt = logits.argmax(-1).tolist()
    sync(dev)
    return b * steps / (time.perf_counter() - t0)


@torch.inference_mode()
def hf_decode(hf, b: int, prompt: int, steps: int, dev: str) -> float:
    from transformers import DynamicCache

    kw = "cache" if "cache" in inspect.signature(hf.forward).parameters else "past_key_values"
    cache = DynamicCache(config=hf.config)
    ids = torch.randint(3, hf.config.vocab_size, (b, prompt), device=dev)
    out = hf(input_ids=ids, use_cache=True, **{kw: cache})
    nxt = out.logits[:, -1].argmax(-1, keepdim=True)
    out = hf(input_ids=nxt, use_cache=True, **{kw: cache})
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        nxt = out.logits[:, -1].argmax(-1, keepdim=True)
        out = hf(input_ids=nxt, use_cache=True, **{kw: cache})
    sync(dev)
    return b * steps / (time.perf_counter() - t0)


def floor_bytes(cfg: ModelConfig, lm: CausalLM, b: int, ctx: int) -> float:
    """Bytes one decode step must read: all non-routed weights, the routed experts the batch is
    expected to touch (uniform routing), and the latent KV cache."""
    elt = lm.dtype.itemsize
    total = sum(p.numel() for p in lm.parameters()) * elt
    routed = 0
    touched = 0.0
    for _, moe in lm.moe_layers():
        per_expert = (moe.experts.gate_up[0].numel() + moe.experts.down[0].numel()) * elt
        routed += per_expert * cfg.n_routed_experts
        e, k = cfg.n_routed_experts, cfg.num_experts_per_tok
        touched += per_expert * e * (1 - (1 - k / e) ** b)
    kv = lm.cache_bytes_per_token() * b * ctx
    return total - routed + touched + kv


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--batches", default="1,16,64")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--bandwidth-gbs", type=float, default=None, help="default: 4800 on CUDA (H200), 20 on CPU")
    ap.add_argument("--skip-hf", action="store_true")
    args = ap.parse_args()
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM

    dev = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    dtype = torch.bfloat16 if dev == "cuda" else torch.float32
    shape = TINY if args.tiny else V2_LITE
    bw = (args.bandwidth_gbs or (4800.0 if dev == "cuda" else 20.0)) * 1e9
    t0 = time.perf_counter()
    torch.manual_seed(0)
    hcfg = DeepseekV3Config(**shape)
    torch.set_default_dtype(dtype)  # build directly in bf16: no fp32 copy of 15.7 B params
    with torch.device(dev):
        hf = DeepseekV3ForCausalLM(hcfg).to(dtype).eval()
    torch.set_default_dtype(torch.float32)
    d = hcfg.to_dict()
    d["architectures"] = ["DeepseekV3ForCausalLM"]
    cfg = ModelConfig.from_dict(d)
    with torch.device("meta"):
        lm = CausalLM(cfg)
    lm = lm.to_empty(device=dev)
    lm.reset_buffers()
    load_weights(lm, hf.state_dict().items())
    lm.cast(dtype).eval()
    for _, moe in lm.moe_layers():
        moe.track = False
    build_s = time.perf_counter() - t0
    res: dict = {"bench": "gpu_decode", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                 "device": torch.cuda.get_device_name() if dev == "cuda" else "cpu (--tiny smoke run)",
                 "dtype": str(dtype), "config": "tiny" if args.tiny else "DeepSeek-V2-Lite-sized",
                 "params_b": round(sum(p.numel() for p in lm.parameters()) / 1e9, 3), "build_s": round(build_s, 1),
                 "prompt": args.prompt, "steps": args.steps, "bandwidth_gbs": bw / 1e9, "batches": {}}
    for b in [int(x) for x in args.batches.split(",")]:
        ours = ours_decode(lm, b, args.prompt, args.steps, dev)
        row = {"kefu_tokens_per_s": round(ours, 1)}
        if not args.skip_hf:
            theirs = hf_decode(hf, b, args.prompt, args.steps, dev)
            row.update(transformers_tokens_per_s=round(theirs, 1), speedup=round(ours / theirs, 2))
        fb = floor_bytes(cfg, lm, b, args.prompt + args.steps // 2)
        ceiling = b / (fb / bw)
        row.update(bandwidth_floor_tokens_per_s=round(ceiling, 1), pct_of_floor=round(100 * ours / ceiling, 1),
                   bytes_per_step_gb=round(fb / 1e9, 3))
        res["batches"][str(b)] = row
        print(f"[bench] batch {b}: {row}", file=sys.stderr, flush=True)
        if dev == "cuda":
            torch.cuda.empty_cache()
    res["total_s"] = round(time.perf_counter() - t0, 1)
    if dev == "cuda":
        res["max_memory_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
