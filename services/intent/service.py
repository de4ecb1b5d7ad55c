"""The intent service's live model: loaded at start, swapped on reload, followed on `current`.

No HTTP here: the routes (app.py) reach the one `IntentService` on `app.state.intent` through
`services.intent.deps`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from kefu import service_auth
from kefu.errors import APIError
from kefu.service import Check
from kefu.settings import Settings
from services.intent import registry
from services.intent.model import IntentModel, LLMReranker
from services.intent.schemas import ReloadResponse

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

    def live(self) -> IntentModel:
        """The model requests run on (503 until one has loaded)."""
        if self.model is None:
            raise APIError(503, "model_not_loaded", self.error or "no intent model loaded")
        return self.model

    def readiness(self) -> Check:
        m = self.model
        if m is None:
            return Check(False, self.error or "no intent model loaded")
        return Check(True, detail={"model_version": m.version, "reranker": m.reranker,
                                   "intents": len(m.labels), "tau": m.tau, "delta": m.delta})

    async def reload_from(self, model_dir: str | None) -> ReloadResponse:
        """An explicit reload: `model_dir` (a version folder or a root with `current`), else
        the data dir's `current` (404 when neither names a model)."""
        folder = None
        if model_dir:
            try:
                folder = registry.resolve_model_dir(Path(model_dir))
            except FileNotFoundError as exc:
                raise APIError(404, "model_not_found", str(exc)) from exc
        return await self.reload(folder)

    def _llm(self) -> LLMReranker | None:
        s = self.settings
        if s.intent_reranker == "llm" and s.llm_enabled:
            # The gateway gives the whole intent call 0.8 s; a slower LLM answer is useless to it.
            return LLMReranker(s.llm_url, s.llm_model, timeout_s=min(s.http_timeout_s, 0.6),
                               headers=service_auth.llm_headers(s), json_mode=s.llm_json_mode)
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
