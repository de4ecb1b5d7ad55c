"""Engine behaviour: batching equals one-at-a-time, streaming, stops, cancel, queue bound, timeouts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import torch

from services.llm.engine import Engine, EngineConfig, PromptTooLong, QueueFull
from services.llm.model.batch import StepBatch
from services.llm.model.loader import load_hf_folder
from services.llm.sampling import SamplingParams, sample


@pytest.fixture(scope="module")
def loaded(tiny_deepseek_dir: Path):
    return load_hf_folder(tiny_deepseek_dir)


def _greedy_ref(lm, prompt: list[int], n: int) -> list[int]:
    cache = lm.allocate_cache(1, len(prompt) + n + 1)
    logits = lm(StepBatch.build([(0, prompt, 0)]), cache)
    out: list[int] = []
    for _ in range(n):
        out.append(int(logits[0].argmax()))
        logits = lm(StepBatch.build([(0, [out[-1]], len(prompt) + len(out) - 1)]), cache)
    return out


async def _collect(h) -> tuple[str, list[int], str | None]:
    text, toks, reason = "", [], None
    async for ev in h.stream():
        text += ev.text
        toks += ev.token_ids
        if ev.finished:
            reason = ev.finish_reason
    return text, toks, reason


async def test_concurrent_requests_match_single_sequence_greedy(loaded) -> None:
    eng = Engine(loaded, EngineConfig(max_batch=4, max_queue=32, prefill_chunk=16)).start()
    try:
        torch.manual_seed(5)
        prompts = [torch.randint(3, 300, (n,)).tolist() for n in (5, 23, 9, 40, 2, 17)]
        params = SamplingParams(max_tokens=12, temperature=0, ignore_eos=True)
        handles = [eng.submit(p, params) for p in prompts]
        results = await asyncio.gather(*(_collect(h) for h in handles))
        for p, (_, toks, reason) in zip(prompts, results, strict=True):
            assert reason == "length"
            assert toks == _greedy_ref(loaded.model, p, 12)
        st = eng.stats()
        assert st["mean_batch_size"] > 1.5  # requests really shared steps
        assert st["generated_tokens"] == 6 * 12
        assert sum(sum(v) for v in st["expert_load"].values()) > 0
    finally:
        eng.stop()


async def test_stop_string_is_cut_and_never_streamed(loaded) -> None:
    eng = Engine(loaded, EngineConfig(max_batch=2)).start()
    try:
        prompt = loaded.tokenizer.encode("Your order has shipped")
        full, _, _ = await _collect(eng.submit(prompt, SamplingParams(max_tokens=20, temperature=0,
                                                                      ignore_eos=True)))
        assert len(full) > 6
        stop = full[3:6]
        text, _, reason = await _collect(eng.submit(prompt, SamplingParams(max_tokens=20, temperature=0,
                                                                           stop=[stop], ignore_eos=True)))
        assert reason == "stop"
        assert text == full[: full.index(stop)]
    finally:
        eng.stop()


async def test_sampling_is_seeded_and_top_p_narrows() -> None:
    logits = torch.tensor([[5.0, 4.0, 0.0, -1.0]] * 3)
    g = [torch.Generator().manual_seed(1) for _ in range(3)]
    temps = torch.tensor([0.0, 1.0, 1.0])
    tps = torch.tensor([1.0, 1e-6, 1.0])
    picks = [sample(logits, temps, tps, g).tolist() for _ in range(50)]
    assert all(p[0] == 0 and p[1] == 0 for p in picks)  # greedy row; top_p~0 keeps only the best
    assert len({p[2] for p in picks}) > 1  # full-distribution row really samples


async def test_cancel_frees_the_slot(loaded) -> None:
    eng = Engine(loaded, EngineConfig(max_batch=1, max_queue=4)).start()
    try:
        long = eng.submit([5, 6, 7], SamplingParams(max_tokens=200, temperature=0, ignore_eos=True))
        agen = long.stream()
        await agen.__anext__()
        await agen.aclose()  # what a client disconnect does to the SSE generator
        short = eng.submit([5, 6, 7], SamplingParams(max_tokens=3, temperature=0, ignore_eos=True))
        _, toks, reason = await asyncio.wait_for(_collect(short), 10)
        assert reason == "length" and len(toks) == 3
        assert len(long.generated) < 200
    finally:
        eng.stop()


async def test_queue_bound_timeout_and_context_window(loaded) -> None:
    eng = Engine(loaded, EngineConfig(max_batch=1, max_queue=2, max_len=64)).start()
    try:
        with pytest.raises(PromptTooLong, match="context window"):
            eng.submit(list(range(3, 80)), SamplingParams(max_tokens=4))
        busy = eng.submit([5, 6], SamplingParams(max_tokens=60, temperature=0, ignore_eos=True))
        busy_stream = busy.stream()
        await busy_stream.__anext__()  # it holds the only slot now
        q1 = eng.submit([5, 6], SamplingParams(max_tokens=2, temperature=0, timeout_s=0.001))
        eng.submit([5, 6], SamplingParams(max_tokens=2))
        with pytest.raises(QueueFull) as exc:
            eng.submit([5, 6], SamplingParams(max_tokens=2))
        assert exc.value.retry_after_s >= 1
        _, _, reason = await _collect(q1)
        assert reason == "timeout"
        await busy_stream.aclose()
    finally:
        eng.stop()
