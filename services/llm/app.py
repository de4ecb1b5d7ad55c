"""Routes of the generation service (HTTP only), as vLLM's entrypoints/openai lays them out: wire
models in protocol.py, OpenAI logic in serving.py, what is being served (engine, upstream or the
reason for neither) in runtime.py. The one Runtime lives on `app.state.runtime`; routes get it
through the `RuntimeDep` dependency."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from kefu.errors import APIError, error_responses
from kefu.service import create_app as kefu_app
from kefu.service_auth import INTERNAL, INTERNAL_RESPONSES, protect
from kefu.settings import Settings, get_settings
from services.llm.config import LLMSettings, get_llm_settings
from services.llm.protocol import ChatCompletionRequest, CompletionRequest
from services.llm.runtime import Runtime

log = logging.getLogger("kefu.llm.app")


async def get_runtime(request: Request) -> Runtime:
    """async: FastAPI runs a plain-def dependency in the thread pool, a thread hop per request."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
router = APIRouter()


@router.post("/v1/chat/completions", tags=["openai"], responses=error_responses(404))  # 404: model not served
async def chat_completions(req: ChatCompletionRequest, request: Request, rt: RuntimeDep) -> Any:
    if rt.upstream is not None:
        return await rt.upstream.forward("/chat/completions", await request.json())
    return await rt.serving().chat(req)


@router.post("/v1/completions", tags=["openai"], responses=error_responses(404))
async def completions(req: CompletionRequest, request: Request, rt: RuntimeDep) -> Any:
    if rt.upstream is not None:
        return await rt.upstream.forward("/completions", await request.json())
    return await rt.serving().completion(req)


@router.get("/v1/models", tags=["openai"])
async def models(rt: RuntimeDep) -> Any:
    if rt.upstream is not None:
        return await rt.upstream.models()
    return JSONResponse(rt.serving().models().model_dump())


@router.get("/v1/engine/stats", tags=["ops"], summary="Queue, batch, throughput, TTFT and expert load")
async def engine_stats(rt: RuntimeDep) -> Any:
    if rt.engine is None:
        raise APIError(503, "not_ready", rt.reason)
    return rt.engine.stats()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load in a thread so /healthz answers at once and /readyz says "loading" meanwhile."""
    rt: Runtime = app.state.runtime
    threading.Thread(target=rt.load, name="kefu-llm-load", daemon=True).start()
    yield
    await rt.close()


def create_app(settings: Settings | None = None, llm_settings: LLMSettings | None = None,
               model: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    rt = Runtime(settings, llm_settings or get_llm_settings(), model or settings.llm_model)
    app = kefu_app("llm", title="kefu generation service",
                   description="OpenAI-compatible chat/completions over kefu's MoE engine (or an upstream).",
                   checks={"model": rt.check}, lifespan=lifespan)
    app.state.runtime = rt
    protect(app, settings)
    app.include_router(router, dependencies=INTERNAL, responses=INTERNAL_RESPONSES)
    return app
