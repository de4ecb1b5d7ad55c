"""The generation engine: continuous batching over a preallocated per-slot KV cache.

A scheduler thread owns the model. Each step it (1) admits waiting requests into free cache
slots, (2) builds one flat batch holding every running sequence's next token plus chunks of
new prompts (prefill budget `prefill_chunk` tokens per step, so long prompts do not stall
decoding), (3) runs one forward pass and samples, and (4) streams text deltas to each request's
asyncio queue. Requests join and leave between steps; a finished or cancelled request frees its
slot at once. Nothing here knows about HTTP: `serving.py` maps the exceptions to status codes.

Interface::

    engine = Engine(loaded, EngineConfig(max_batch=16, max_queue=64))
    engine.start()
    handle = engine.submit(prompt_ids, SamplingParams(max_tokens=64, temperature=0))  # may raise
    async for ev in handle.stream():       # GenerationEvent(text, token_ids, finished, finish_reason)
        ...
    handle.cancel()                        # or just stop iterating: the stream cancels itself
    engine.stats(); engine.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import torch

from services.llm import metrics as M
from services.llm.model.batch import StepBatch
from services.llm.model.loader import LoadedModel
from services.llm.sampling import SamplingParams, sample

log = logging.getLogger("kefu.llm.engine")


class EngineError(Exception):
    """Base of the engine's refusals (serving.py maps them to HTTP statuses)."""


class QueueFull(EngineError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"generation queue is full; retry in {retry_after_s}s")
        self.retry_after_s = retry_after_s


class PromptTooLong(EngineError):
    pass


class EngineStopped(EngineError):
    pass


@dataclass
class EngineConfig:
    max_batch: int = 16  # KV cache slots = sequences decoded together
    max_queue: int = 64  # waiting requests before 429
    max_len: int | None = None  # context window; default min(model, 2048, cache budget)
    cache_budget_mb: int = 512
    prefill_chunk: int = 256  # prompt tokens per step
    request_timeout_s: float = 120.0
    dtype: torch.dtype | None = None


@dataclass
class GenerationEvent:
    text: str = ""
    token_ids: list[int] = field(default_factory=list)
    finished: bool = False
    finish_reason: str | None = None  # stop | length | timeout | cancelled | error
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


_ids = itertools.count(1)


class RequestHandle:
    """One request's state; the scheduler thread writes, the event loop reads its queue."""

    def __init__(self, engine: Engine, prompt: list[int], params: SamplingParams,
                 loop: asyncio.AbstractEventLoop | None) -> None:
        self.id = next(_ids)
        self.engine = engine
        self.prompt = prompt
        self.params = params
        self.loop = loop
        self.queue: asyncio.Queue[GenerationEvent] | None = asyncio.Queue() if loop else None
        self.created = time.perf_counter()
        timeout = params.timeout_s or engine.cfg.request_timeout_s
        self.deadline = self.created + timeout
        self.slot: int | None = None
        self.prefilled = 0
        self.generated: list[int] = []
        self.emitted_text = ""
        self.first_token_at: float | None = None
        self.cancelled = False
        self.done = False
        self.generator: torch.Generator | None = None
        if params.temperature > 0:
            self.generator = torch.Generator().manual_seed(
                params.seed if params.seed is not None else int(time.time_ns() % (2**62)) + self.id
            )
        self._sync_events: list[GenerationEvent] = []
        self._sync_done = threading.Event()

    # -- scheduler side
    def push(self, ev: GenerationEvent) -> None:
        if self.queue is not None and self.loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: the client is gone
                self.loop.call_soon_threadsafe(self.queue.put_nowait, ev)
        else:
            self._sync_events.append(ev)
        if ev.finished:
            self._sync_done.set()

    # -- client side
    def cancel(self) -> None:
        self.cancelled = True
        self.engine._wake.set()

    async def stream(self) -> AsyncIterator[GenerationEvent]:
        """Yields events until finished; leaving early (client disconnect) cancels the request."""
        assert self.queue is not None
        try:
            while True:
                ev = await self.queue.get()
                yield ev
                if ev.finished:
                    return
        finally:
            if not self.done:
                self.cancel()

    def wait(self, timeout: float | None = None) -> list[GenerationEvent]:
        """Blocking use without an event loop (CLI, benchmarks)."""
        self._sync_done.wait(timeout)
        return self._sync_events


class Engine:
    def __init__(self, loaded: LoadedModel, cfg: EngineConfig | None = None) -> None:
        self.loaded = loaded
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer
        self.cfg = cfg or EngineConfig()
        self.eos = set(loaded.config.eos_token_ids)
        per_tok = self.model.cache_bytes_per_token()
        budget_len = (self.cfg.cache_budget_mb << 20) // max(per_tok * self.cfg.max_batch, 1)
        self.max_len = int(self.cfg.max_len or min(loaded.config.max_position_embeddings, 2048, budget_len))
        self.cache = self.model.allocate_cache(self.cfg.max_batch, self.max_len)
        self.cache_mb = per_tok * self.cfg.max_batch * self.max_len / 2**20
        self.free_slots = list(range(self.cfg.max_batch - 1, -1, -1))
        self.waiting: deque[RequestHandle] = deque()
        self.running: list[RequestHandle] = []
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop = False
        self.steps = 0
        self.total_generated = 0
        self._tok_window: deque[tuple[float, int]] = deque()
        self._ttfts: deque[float] = deque(maxlen=1000)
        self._batch_sizes: deque[int] = deque(maxlen=1000)
        self._request_s: deque[float] = deque(maxlen=100)
        self._expert_seen = {i: torch.zeros_like(m.expert_counts) for i, m in self.model.moe_layers()}
        self._last_expert_flush = 0.0
        self.error: str | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Engine:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._loop, name="kefu-llm-engine", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            pending = list(self.waiting) + list(self.running)
            self.waiting.clear()
            self.running.clear()
        for r in pending:
            self._finish(r, "error", error="engine stopped")

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ submission
    def encode_check(self, prompt_ids: list[int], params: SamplingParams) -> None:
        if not prompt_ids:
            raise PromptTooLong("prompt is empty")
        if len(prompt_ids) >= self.max_len:
            raise PromptTooLong(
                f"prompt is {len(prompt_ids)} tokens but the context window is {self.max_len} tokens "
                "(prompt + completion must fit)")
        if len(prompt_ids) + params.max_tokens > self.max_len:
            raise PromptTooLong(
                f"prompt ({len(prompt_ids)} tokens) + max_tokens ({params.max_tokens}) exceeds the "
                f"context window of {self.max_len} tokens")

    def submit(self, prompt_ids: list[int], params: SamplingParams, *, use_loop: bool = True) -> RequestHandle:
        """Queue a request (raises QueueFull / PromptTooLong / EngineStopped). Call from the event loop,
        or with use_loop=False from plain threads (then use handle.wait())."""
        if not self.alive:
            raise EngineStopped(self.error or "engine is not running")
        self.encode_check(prompt_ids, params)
        loop = None
        if use_loop:
            loop = asyncio.get_running_loop()
        with self._lock:
            if len(self.waiting) >= self.cfg.max_queue:
                M.REJECTED.inc()
                raise QueueFull(self.retry_after())
            h = RequestHandle(self, list(prompt_ids), params, loop)
            self.waiting.append(h)
            M.QUEUE_DEPTH.set(len(self.waiting))
        self._wake.set()
        return h

    def retry_after(self) -> int:
        """Seconds until a queue place is likely free: queue / batch x mean request time."""
        mean = sum(self._request_s) / len(self._request_s) if self._request_s else 2.0
        est = mean * (len(self.waiting) + 1) / max(self.cfg.max_batch, 1)
        return int(min(max(math.ceil(est), 1), 60))

    # ------------------------------------------------------------------ scheduler
    def _loop(self) -> None:
        torch.set_grad_enabled(False)
        while not self._stop:
            try:
                worked = self._step()
            except Exception as exc:  # never leave clients hanging: fail the batch, keep serving
                log.exception("engine step failed")
                self.error = f"{type(exc).__name__}: {exc}"
                with self._lock:
                    failed = list(self.running)
                    self.running.clear()
                for r in failed:
                    self._finish(r, "error", error=self.error)
                worked = True
            if not worked:
                self._wake.wait(0.05)
                self._wake.clear()

    def _admit(self, now: float) -> None:
        with self._lock:
            for r in list(self.waiting):
                if r.cancelled or now > r.deadline:
                    self.waiting.remove(r)
                    self._finish(r, "cancelled" if r.cancelled else "timeout",
                                 error=None if r.cancelled else "timed out waiting in the queue")
            while self.waiting and self.free_slots:
                r = self.waiting.popleft()
                r.slot = self.free_slots.pop()
                self.running.append(r)
            M.QUEUE_DEPTH.set(len(self.waiting))
            M.RUNNING.set(len(self.running))

    def _step(self) -> bool:
        """One scheduler step: admit, expire, run one mixed prefill/decode batch, sample."""
        now = time.perf_counter()
        self._admit(now)
        self._expire(now)
        if not self.running:
            return False
        seqs, owners = self._plan_batch()
        batch = StepBatch.build(seqs, device=self.model.device)
        logits = self.model(batch, self.cache)
        self.steps += 1
        M.BATCH_SIZE.observe(len(seqs))
        M.STEP_TOKENS.observe(len(batch.input_ids))
        self._batch_sizes.append(len(seqs))
        rows, reqs = self._advance(seqs, owners)
        if reqs:
            self._sample(logits, rows, reqs)
        self._flush_expert_metrics()
        return True

    def _expire(self, now: float) -> None:
        """Finish running requests the client cancelled or whose deadline passed."""
        for r in list(self.running):
            if r.cancelled:
                self._finish(r, "cancelled")
            elif now > r.deadline:
                self._finish(r, "timeout", error="request timed out")

    def _plan_batch(self) -> tuple[list[tuple[int, list[int], int]], list[RequestHandle]]:
        """(slot, tokens, start position) per running request: the next prompt chunk while the
        step's prefill budget lasts, else the last generated token; and who owns each row."""
        seqs: list[tuple[int, list[int], int]] = []
        owners: list[RequestHandle] = []
        budget = self.cfg.prefill_chunk
        for r in self.running:
            assert r.slot is not None
            if r.prefilled < len(r.prompt):
                if budget <= 0:
                    continue
                chunk = r.prompt[r.prefilled: r.prefilled + budget]
                seqs.append((r.slot, chunk, r.prefilled))
                budget -= len(chunk)
            else:
                seqs.append((r.slot, [r.generated[-1]], len(r.prompt) + len(r.generated) - 1))
            owners.append(r)
        return seqs, owners

    def _advance(self, seqs: list[tuple[int, list[int], int]],
                 owners: list[RequestHandle]) -> tuple[list[int], list[RequestHandle]]:
        """Count the prefilled chunks; the batch rows (and their requests) that now sample a token."""
        rows: list[int] = []
        reqs: list[RequestHandle] = []
        for i, ((_, toks, _), r) in enumerate(zip(seqs, owners, strict=True)):
            if r.prefilled < len(r.prompt):
                r.prefilled += len(toks)
                M.PROMPT.inc(len(toks))
                if r.prefilled < len(r.prompt):
                    continue  # more prompt chunks to go before the first token
            rows.append(i)
            reqs.append(r)
        return rows, reqs

    def _sample(self, logits: torch.Tensor, rows: list[int], reqs: list[RequestHandle]) -> None:
        """Sample each ready row with its request's own settings and hand the tokens on."""
        temps = torch.tensor([r.params.temperature for r in reqs])
        tps = torch.tensor([r.params.top_p for r in reqs])
        toks = sample(logits[rows].cpu(), temps, tps, [r.generator for r in reqs]).tolist()
        t = time.perf_counter()
        for r, tok in zip(reqs, toks, strict=True):
            self._on_token(r, int(tok), t)
        self._count_tokens(t, len(reqs))

    def _on_token(self, r: RequestHandle, tok: int, t: float) -> None:
        if r.first_token_at is None:
            r.first_token_at = t
            ttft = t - r.created
            self._ttfts.append(ttft)
            M.TTFT.observe(ttft)
        if tok in self.eos and not r.params.ignore_eos:
            self._finish(r, "stop")
            return
        r.generated.append(tok)
        M.GENERATED.inc()
        self.total_generated += 1
        text = self.tokenizer.decode(r.generated, skip_special_tokens=True)
        stop_at, hold = _scan_stops(text, r.params.stop, len(r.emitted_text))
        if stop_at is not None:
            self._emit(r, text[:stop_at], [tok])
            self._finish(r, "stop")
            return
        if len(r.generated) >= r.params.max_tokens:
            self._emit(r, text, [tok])
            self._finish(r, "length")
            return
        if text.endswith("\ufffd"):
            hold = max(hold, 1)  # an unfinished UTF-8 sequence (e.g. half a Chinese character)
        self._emit(r, text[: len(text) - hold] if hold else text, [tok])

    def _emit(self, r: RequestHandle, text: str, toks: list[int]) -> None:
        delta = text[len(r.emitted_text):] if text.startswith(r.emitted_text) else ""
        r.emitted_text += delta
        r.push(GenerationEvent(text=delta, token_ids=toks, prompt_tokens=len(r.prompt),
                               completion_tokens=len(r.generated)))

    def _finish(self, r: RequestHandle, reason: str, error: str | None = None) -> None:
        if r.done:
            return
        r.done = True
        with self._lock:
            if r in self.running:
                self.running.remove(r)
            if r.slot is not None:
                self.free_slots.append(r.slot)
                r.slot = None
            M.RUNNING.set(len(self.running))
        self._request_s.append(time.perf_counter() - r.created)
        M.FINISHED.labels(reason).inc()
        r.push(GenerationEvent(finished=True, finish_reason=reason, prompt_tokens=len(r.prompt),
                               completion_tokens=len(r.generated), error=error))

    def _count_tokens(self, t: float, n: int) -> None:
        self._tok_window.append((t, n))
        while self._tok_window and t - self._tok_window[0][0] > 5.0:
            self._tok_window.popleft()
        M.TOKENS_PER_S.set(self.tokens_per_s(t))

    def tokens_per_s(self, now: float | None = None) -> float:
        now = now or time.perf_counter()
        if len(self._tok_window) < 2:
            return 0.0
        span = max(now - self._tok_window[0][0], 1e-3)
        return sum(n for _, n in self._tok_window) / span

    def _flush_expert_metrics(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_expert_flush < 1.0:
            return
        self._last_expert_flush = now
        for i, moe in self.model.moe_layers():
            counts = moe.expert_counts.clone()
            delta = (counts - self._expert_seen[i]).tolist()
            self._expert_seen[i] = counts
            for e, d in enumerate(delta):
                if d:
                    M.EXPERT_TOKENS.labels(str(i), str(e)).inc(d)
            total = float(counts.sum())
            if total:
                M.EXPERT_IMBALANCE.labels(str(i)).set(float(counts.max()) * len(counts) / total)

    # ------------------------------------------------------------------ introspection
    def expert_load(self) -> dict[str, list[int]]:
        return {str(i): m.expert_counts.tolist() for i, m in self.model.moe_layers()}

    def stats(self) -> dict[str, Any]:
        ttfts = sorted(self._ttfts)

        def pct(p: float) -> float | None:
            return round(ttfts[min(int(p * len(ttfts)), len(ttfts) - 1)], 4) if ttfts else None

        return {
            "model": self.loaded.name,
            "arch": self.loaded.config.arch,
            "queue_depth": len(self.waiting),
            "running": len(self.running),
            "max_batch": self.cfg.max_batch,
            "max_queue": self.cfg.max_queue,
            "context_window": self.max_len,
            "kv_cache_mb": round(self.cache_mb, 1),
            "steps": self.steps,
            "generated_tokens": self.total_generated,
            "tokens_per_s": round(self.tokens_per_s(), 2),
            "ttft_p50_s": pct(0.5),
            "ttft_p99_s": pct(0.99),
            "mean_batch_size": round(sum(self._batch_sizes) / len(self._batch_sizes), 2) if self._batch_sizes else 0,
            "expert_load": self.expert_load(),
        }


def _scan_stops(text: str, stops: list[str], emitted: int) -> tuple[int | None, int]:
    """(index where a stop string starts, or None; chars to hold back as a possible stop prefix)."""
    if not stops:
        return None, 0
    first: int | None = None
    for s in stops:
        i = text.find(s, max(0, emitted - len(s)))
        if i >= 0 and (first is None or i < first):
            first = i
    if first is not None:
        return first, 0
    hold = 0
    for s in stops:
        for k in range(min(len(s) - 1, len(text)), 0, -1):
            if text.endswith(s[:k]):
                hold = max(hold, k)
                break
    return None, hold
