"""Intent service (routes only): classify, batch classify, hot reload of a newly trained model.

The live model is held by `service.IntentService` on `app.state.intent` (reached through `deps`);
routes take it from there per request, so a reload never drops one in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI
from starlette.concurrency import run_in_threadpool

from kefu.errors import APIError, error_responses
from kefu.service import Check
from kefu.service import create_app as create_service_app
from kefu.service_auth import INTERNAL, INTERNAL_RESPONSES, protect
from kefu.settings import Settings, get_settings
from services.intent.deps import IntentDep
from services.intent.schemas import (
    BatchClassifyRequest,
    BatchClassifyResponse,
    ClassifyResponse,
    ReloadRequest,
    ReloadResponse,
    TextRequest,
    classify_response,
)
from services.intent.service import IntentService

router = APIRouter()


@router.post("/v1/classify", response_model=ClassifyResponse, tags=["intent"])
async def classify(req: TextRequest, svc: IntentDep) -> ClassifyResponse:
    model = svc.live()
    pred = await run_in_threadpool(model.classify, req.text, req.k)
    return classify_response(pred, model.version)


@router.post("/v1/classify/batch", response_model=BatchClassifyResponse, tags=["intent"])
async def classify_batch(req: BatchClassifyRequest, svc: IntentDep) -> BatchClassifyResponse:
    model = svc.live()
    preds = await run_in_threadpool(model.classify_batch, req.texts, req.k)
    return BatchClassifyResponse(results=[classify_response(p, model.version) for p in preds],
                                 model_version=model.version)


@router.post("/admin/reload", response_model=ReloadResponse, tags=["admin"],
             responses=error_responses(404))  # 404: no model at the path asked for
async def reload(svc: IntentDep, req: ReloadRequest | None = None) -> ReloadResponse:
    return await svc.reload_from(req.model_dir if req is not None else None)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    svc = IntentService(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        """Serve only once the first load has been tried (a missing model: /readyz says so)."""
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
        return svc.readiness()

    # 100 KB of emoji is ~1 MB of escaped JSON: allow it, the classifier truncates anyway.
    app = create_service_app("intent", title="kefu intent service",
                             description="fastText pre-screen + re-ranking cascade, out-of-scope detection",
                             checks={"model": model_check}, lifespan=lifespan,
                             max_body_bytes=max(settings.max_body_bytes, 2 * 1024 * 1024))
    app.state.intent = svc
    protect(app, settings)
    app.include_router(router, dependencies=INTERNAL, responses=INTERNAL_RESPONSES)
    return app
