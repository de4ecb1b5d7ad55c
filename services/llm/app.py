"""Routes of the generation service (HTTP only; logic lives in serving.py / engine.py / upstream.py)."""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kefu.errors import APIError
from kefu.service import Check
from kefu.service import create_app as kefu_app
from kefu.settings import Settings, get_settings
from services.llm.config import LLMSettings, get_llm_settings
from services.llm.protocol import ChatCompletionRequest, CompletionRequest
from services.llm.runtime import Runtime

log = logging.getLogger("kefu.llm.app")


def create_app(settings: Settings | None = None, llm_settings: LLMSettings | None = None,
               model: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    llm = llm_settings or get_llm_settings()
    rt = Runtime(settings, llm, model or settings.llm_model)

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # noqa: ANN202
        threading.Thread(target=rt.load, name="kefu-llm-load", daemon=True).start()
        yield
        await rt.close()

    async def model_check() -> Check:
        return await rt.check()

    app = kefu_app("llm", title="kefu generation service",
                   description="OpenAI-compatible chat/completions over kefu's MoE engine (or an upstream).",
                   checks={"model": model_check}, lifespan=lifespan)
    app.state.runtime = rt

    @app.post("/v1/chat/completions", tags=["openai"])
    async def chat_completions(req: ChatCompletionRequest, request: Request) -> Any:
        if rt.upstream is not None:
            return await rt.upstream.forward("/chat/completions", await request.json())
        return await rt.serving().chat(req)

    @app.post("/v1/completions", tags=["openai"])
    async def completions(req: CompletionRequest, request: Request) -> Any:
        if rt.upstream is not None:
            return await rt.upstream.forward("/completions", await request.json())
        return await rt.serving().completion(req)

    @app.get("/v1/models", tags=["openai"])
    async def models() -> Any:
        if rt.upstream is not None:
            return await rt.upstream.models()
        return JSONResponse(rt.serving().models().model_dump())

    @app.get("/v1/engine/stats", tags=["ops"], summary="Queue, batch, throughput, TTFT and expert load")
    async def engine_stats() -> Any:
        if rt.engine is None:
            raise APIError(503, "not_ready", rt.reason)
        return rt.engine.stats()

    return app
