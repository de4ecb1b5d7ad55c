"""MoE feed-forward: kefu's grouped dispatch vs the seed's per-(slot, expert) masked loop and vs
transformers' DeepseekV3MoE, same weights, same routing; one JSON object.

    python bench/llm/bench_moe.py [--tokens 16,128,1024]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.llm.common import machine  # noqa: E402
from services.llm.model.config import ModelConfig  # noqa: E402
from services.llm.model.moe import MoE  # noqa: E402


def timeit(fn, reps: int) -> float:  # noqa: ANN001
    fn()
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", default="16,128,1024")
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--inter", type=int, default=256)
    args = ap.parse_args()
    from transformers import DeepseekV3Config
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3MoE

    hcfg = DeepseekV3Config(hidden_size=args.hidden, moe_intermediate_size=args.inter, n_routed_experts=16,
                            num_experts_per_tok=2, n_shared_experts=1, n_group=4, topk_group=2)
    torch.manual_seed(0)
    hf = DeepseekV3MoE(hcfg).eval()
    with torch.no_grad():
        for p in hf.parameters():
            p.normal_(0, 0.02)
    d = hcfg.to_dict()
    d["architectures"] = ["DeepseekV3ForCausalLM"]
    ours = MoE(ModelConfig.from_dict(d)).eval()
    ours.track = False
    with torch.no_grad():  # identical weights
        ours.gate.weight.copy_(hf.gate.weight)
        ours.experts.gate_up.copy_(hf.experts.gate_up_proj)
        ours.experts.down.copy_(hf.experts.down_proj)
        for n in ("gate_proj", "up_proj", "down_proj"):
            getattr(ours.shared_experts, n).weight.copy_(getattr(hf.shared_experts, n).weight)
    out = {"bench": "llm_moe_dispatch", "date": datetime.now(UTC).isoformat(timespec="seconds"),
           "machine": machine(), "config": {"hidden": args.hidden, "moe_intermediate": args.inter, "experts": 16,
                                            "top_k": 2, "shared": 1}, "tokens": {}}
    with torch.inference_mode():
        for n in [int(t) for t in args.tokens.split(",")]:
            x = torch.randn(n, args.hidden)
            a, b, c = ours(x), ours(x, naive=True), hf(x[None])[0]
            assert torch.allclose(a, b, atol=1e-5) and torch.allclose(a, c, atol=1e-5), "implementations disagree"
            reps = max(3, 2000 // n)
            g = timeit(lambda x=x: ours(x), reps)
            nv = timeit(lambda x=x: ours(x, naive=True), reps)
            h = timeit(lambda x=x: hf(x[None]), reps)
            out["tokens"][str(n)] = {"grouped_ms": round(g * 1e3, 3), "seed_naive_ms": round(nv * 1e3, 3),
                                     "transformers_ms": round(h * 1e3, 3),
                                     "speedup_vs_naive": round(nv / g, 2), "speedup_vs_transformers": round(h / g, 2)}
            print(f"[bench] {n} tokens: {out['tokens'][str(n)]}", file=sys.stderr, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
