"""Intent service (HTTP only): classify, batch classify, hot reload of a newly trained model."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from kefu.errors import APIError
from kefu.service import Check
from kefu.service import create_app as create_service_app
from kefu.settings import Settings, get_settings
from services.intent import registry
from services.intent.model import IntentModel, LLMReranker, Prediction
from services.intent.schemas import (
    BatchClassifyRequest,
    BatchClassifyResponse,
    ClassifyResponse,
    IntentCandidate,
    ReloadRequest,
    ReloadResponse,
    TextRequest,
)

log = logging.getLogger("kefu.intent")
WATCH_INTERVAL_S = 5.0


class IntentService:
    """Holds the live model; a reload builds the new one aside and swaps the reference, so
    requests already running finish on the model they started with and none is dropped."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = registry.intent_root(settings.models_dir)
        self.model: IntentModel | None = None
        self.error: str | None = None
        self._reload_lock = asyncio.Lock()
        self._seen_current: Path | None = None  # what `current` pointed at when last looked

    def _llm(self) -> LLMReranker | None:
        s = self.settings
        if s.intent_reranker == "llm" and s.llm_enabled:
            # The gateway gives the whole intent call 0.8 s; a slower LLM answer is useless to it.
            return LLMReranker(s.llm_url, s.llm_model, timeout_s=min(s.http_timeout_s, 0.6))
        return None

    def _load(self, folder: Path) -> IntentModel:
        return IntentModel(folder, self.settings.models_dir, reranker=self.settings.intent_reranker,
                           llm=self._llm())

    async def reload(self, folder: Path | None = None, only_if_changed: bool = False) -> ReloadResponse:
        async with self._reload_lock:
            t0 = time.perf_counter()
            if folder is None:
                folder = self._seen_current = registry.current_dir(self.root)
            target = folder
            previous = self.model.version if self.model else None
            if target is None:
                self.error = f"no intent model under {self.root} (run `kefu build --only intent`)"
                raise APIError(404, "model_not_found", self.error)
            if only_if_changed and self.model is not None and self.model.folder.resolve() == target.resolve():
                return ReloadResponse(model_version=self.model.version, previous_version=previous,
                                      changed=False, load_ms=0.0)
            try:
                new = await run_in_threadpool(self._load, target)
            except Exception as exc:
                log.exception("loading intent model %s failed", target)
                raise APIError(422, "model_invalid", f"cannot load {target}: {type(exc).__name__}: {exc}") from exc
            self.model = new  # one reference assignment: atomic for every reader
            self.error = None
            ms = (time.perf_counter() - t0) * 1000
            log.info("intent model %s loaded in %.0f ms", new.version, ms)
            return ReloadResponse(model_version=new.version, previous_version=previous,
                                  changed=new.version != previous or new.folder != target, load_ms=round(ms, 1))

    async def watch(self) -> None:
        """Pick up a new `current` (e.g. after `kefu intent train`) without an explicit reload.

        Only a *change* of the pointer triggers a load, so an explicit reload of another folder
        (a canary, a rollback) is not undone by the watcher."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            target = registry.current_dir(self.root)
            if target is None or target == self._seen_current:
                continue
            self._seen_current = target
            with contextlib.suppress(APIError):
                await self.reload(target, only_if_changed=True)


def _response(pred: Prediction, version: str) -> ClassifyResponse:
    return ClassifyResponse(
        intent=pred.intent,
        confidence=round(pred.confidence, 6),
        stage=pred.stage,
        candidates=[IntentCandidate(label=lab, score=round(score, 6)) for lab, score in pred.candidates],
        out_of_scope=pred.out_of_scope,
        model_version=version,
        latency_ms=round(pred.latency_ms, 3),
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    svc = IntentService(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with contextlib.suppress(APIError):
            await svc.reload()
        watcher = asyncio.create_task(svc.watch())
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def model_check() -> Check:
        if svc.model is None:
            return Check(False, svc.error or "no intent model loaded")
        m = svc.model
        return Check(True, detail={"model_version": m.version, "reranker": m.reranker,
                                   "intents": len(m.labels), "tau": m.tau, "delta": m.delta})

    # 100 KB of emoji is ~1 MB of escaped JSON: allow it, the classifier truncates anyway.
    app = create_service_app("intent", title="kefu intent service",
                             description="fastText pre-screen + re-ranking cascade, out-of-scope detection",
                             checks={"model": model_check}, lifespan=lifespan,
                             max_body_bytes=max(settings.max_body_bytes, 2 * 1024 * 1024))
    app.state.intent = svc

    def live_model() -> IntentModel:
        if svc.model is None:
            raise APIError(503, "model_not_loaded", svc.error or "no intent model loaded")
        return svc.model

    @app.post("/v1/classify", response_model=ClassifyResponse, tags=["intent"])
    async def classify(req: TextRequest) -> ClassifyResponse:
        model = live_model()
        pred = await run_in_threadpool(model.classify, req.text, req.k)
        return _response(pred, model.version)

    @app.post("/v1/classify/batch", response_model=BatchClassifyResponse, tags=["intent"])
    async def classify_batch(req: BatchClassifyRequest) -> BatchClassifyResponse:
        model = live_model()
        preds = await run_in_threadpool(model.classify_batch, req.texts, req.k)
        return BatchClassifyResponse(results=[_response(p, model.version) for p in preds],
                                     model_version=model.version)

    @app.post("/admin/reload", response_model=ReloadResponse, tags=["admin"])
    async def reload(req: ReloadRequest | None = None) -> ReloadResponse:
        folder = None
        if req is not None and req.model_dir:
            try:
                folder = registry.resolve_model_dir(Path(req.model_dir))
            except FileNotFoundError as exc:
                raise APIError(404, "model_not_found", str(exc)) from exc
        return await svc.reload(folder)

    return app
