"""Tokens/s and TTFT p50/p99 at concurrency 1, 4, 16: kefu's engine vs Hugging Face generate()
on the same model and prompts, in one run. Prints one JSON object.

Baselines: `hf_sequential` = a server wrapping generate() that serves one request at a time (what a
plain wrapper does); `hf_static_batch` = generate() on all concurrent prompts at once, left-padded
(needs every request to arrive together and finish together, so it cannot stream or admit new work).

    python bench/llm/bench_throughput.py [--model PATH] [--max-tokens 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.llm.common import TEXT, machine, rss_mb, synthetic_deepseek
from services.llm.engine import Engine, EngineConfig
from services.llm.model.loader import load_hf_folder
from services.llm.sampling import SamplingParams


def prompts(tok, n: int) -> list[list[int]]:
    words = TEXT.split()
    out = []
    for i in range(n):
        start = (i * 7) % (len(words) - 20)
        out.append(tok.encode(" ".join(words[start:start + 12 + (i % 5) * 4]), add_special_tokens=False))
    return out


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(int(p * len(xs)), len(xs) - 1)], 4)


async def run_engine(engine: Engine, reqs: list[list[int]], conc: int, max_tokens: int) -> dict:
    sem = asyncio.Semaphore(conc)
    ttfts: list[float] = []
    total = 0

    async def one(p: list[int]) -> None:
        nonlocal total
        async with sem:
            t0 = time.perf_counter()
            h = engine.submit(p, SamplingParams(max_tokens=max_tokens, temperature=0, ignore_eos=True))
            first = None
            async for ev in h.stream():
                if ev.token_ids and first is None:
                    first = time.perf_counter() - t0
                total += len(ev.token_ids)
            ttfts.append(first or 0.0)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(p) for p in reqs))
    wall = time.perf_counter() - t0
    return {"tokens_per_s": round(total / wall, 1), "ttft_p50_s": pct(ttfts, 0.5), "ttft_p99_s": pct(ttfts, 0.99),
            "tokens": total, "wall_s": round(wall, 2)}


class _FirstToken:
    """generate() streamer hook: the second put() is the first new token."""

    def __init__(self) -> None:
        self.calls, self.first = 0, None

    def put(self, _v) -> None:
        self.calls += 1
        if self.calls == 2 and self.first is None:
            self.first = time.perf_counter()

    def end(self) -> None:
        pass


def run_hf_sequential(hf, reqs: list[list[int]], conc: int, max_tokens: int, pad: int) -> dict:
    """`conc` closed-loop clients (as for the engine) against a server running one generate() at a
    time: request i arrives when request i-conc finished, so TTFT includes the wait in line."""
    t0 = time.perf_counter()
    ttfts, total, done = [], 0, []
    for i, p in enumerate(reqs):
        arrival = t0 if i < conc else done[i - conc]
        s = _FirstToken()
        out = hf.generate(torch.tensor([p]), max_new_tokens=max_tokens, min_new_tokens=max_tokens, do_sample=False,
                          streamer=s, pad_token_id=pad)
        done.append(time.perf_counter())
        ttfts.append((s.first or done[-1]) - arrival)
        total += out.shape[1] - len(p)
    wall = time.perf_counter() - t0
    return {"tokens_per_s": round(total / wall, 1), "ttft_p50_s": pct(ttfts, 0.5), "ttft_p99_s": pct(ttfts, 0.99),
            "tokens": total, "wall_s": round(wall, 2)}


def run_hf_static(hf, reqs: list[list[int]], conc: int, max_tokens: int, pad: int) -> dict:
    t0 = time.perf_counter()
    ttfts, total = [], 0
    arrival = t0
    for i in range(0, len(reqs), conc):
        group = reqs[i:i + conc]
        width = max(len(p) for p in group)
        ids = torch.tensor([[pad] * (width - len(p)) + p for p in group])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in group])
        s = _FirstToken()
        out = hf.generate(ids, attention_mask=mask, max_new_tokens=max_tokens, min_new_tokens=max_tokens,
                          do_sample=False, streamer=s, pad_token_id=pad)
        ttfts += [(s.first or time.perf_counter()) - arrival] * len(group)
        total += (out.shape[1] - width) * len(group)
        arrival = time.perf_counter()
    wall = time.perf_counter() - t0
    return {"tokens_per_s": round(total / wall, 1), "ttft_p50_s": pct(ttfts, 0.5), "ttft_p99_s": pct(ttfts, 0.99),
            "tokens": total, "wall_s": round(wall, 2)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None, help="HF folder (default: a synthetic responder-sized DeepSeek-V3)")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--concurrency", default="1,4,16")
    args = ap.parse_args()
    folder = Path(args.model) if args.model else synthetic_deepseek()
    loaded = load_hf_folder(folder)
    from transformers import AutoModelForCausalLM

    hf = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    pad = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0
    engine = Engine(loaded, EngineConfig(max_batch=16, max_queue=256, max_len=512)).start()
    results: dict = {"bench": "llm_throughput", "date": datetime.now(UTC).isoformat(timespec="seconds"),
                     "machine": machine(), "model": str(folder) if args.model else "synthetic DeepSeek-V3 (random)",
                     "arch": loaded.config.arch, "params_m": round(sum(p.numel() for p in hf.parameters()) / 1e6, 2),
                     "max_tokens": args.max_tokens, "levels": {}}
    try:
        asyncio.run(run_engine(engine, prompts(loaded.tokenizer, 2), 2, 4))  # warm-up
        with torch.inference_mode():
            hf.generate(torch.tensor([prompts(loaded.tokenizer, 1)[0]]), max_new_tokens=2, pad_token_id=pad)
        for conc in [int(c) for c in args.concurrency.split(",")]:
            reqs = prompts(loaded.tokenizer, max(conc, 4) if conc < 16 else conc)
            ours = asyncio.run(run_engine(engine, reqs, conc, args.max_tokens))
            with torch.inference_mode():
                seq = run_hf_sequential(hf, reqs, conc, args.max_tokens, pad)
                static = run_hf_static(hf, reqs, conc, args.max_tokens, pad)
            results["levels"][str(conc)] = {
                "requests": len(reqs), "kefu_engine": ours, "hf_sequential": seq, "hf_static_batch": static,
                "speedup_vs_hf_sequential": round(ours["tokens_per_s"] / seq["tokens_per_s"], 2),
                "speedup_vs_hf_static_batch": round(ours["tokens_per_s"] / static["tokens_per_s"], 2),
            }
            print(f"[bench] concurrency {conc}: {results['levels'][str(conc)]}", file=sys.stderr, flush=True)
    finally:
        engine.stop()
    results["max_rss_mb"] = round(rss_mb(), 1)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
