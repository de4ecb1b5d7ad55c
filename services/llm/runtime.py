"""What the service is serving right now: a loaded engine, an upstream, or a reason why neither.

Loading runs in a thread so /healthz answers at once and /readyz says "loading" (SmolLM2's GGUF
takes ~40 s to dequantize); a missing default responder leaves the service up and /readyz says why,
so the gateway falls back to grounded templates.
"""

from __future__ import annotations

import logging
import os

import torch

from kefu.errors import APIError
from kefu.service import Check
from kefu.settings import Settings
from services.llm.config import LLMSettings
from services.llm.engine import Engine, EngineConfig
from services.llm.registry import RESPONDER, ModelSpec, resolve
from services.llm.serving import OpenAIServing
from services.llm.upstream import Upstream

log = logging.getLogger("kefu.llm.runtime")

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class Runtime:
    def __init__(self, settings: Settings, llm: LLMSettings, model: str) -> None:
        self.settings, self.llm, self.model_value = settings, llm, model
        self.engine: Engine | None = None
        self._serving: OpenAIServing | None = None
        self.upstream: Upstream | None = None
        self.spec: ModelSpec | None = None
        self.reason = "starting"
        if llm.upstream:
            self.upstream = Upstream(llm.upstream, llm.upstream_api_key, llm.upstream_timeout_s, llm.upstream_retries,
                                     delexicalised=llm.upstream_delexicalised)
            self.reason = ""
            return
        try:
            self.spec = resolve(model, settings)
        except FileNotFoundError as exc:
            self.reason = str(exc)

    def load(self) -> None:
        if self.upstream is not None or self.spec is None:
            return
        spec = self.spec
        if not spec.exists:
            hint = (" (build it with `kefu build --only llm` or `kefu llm train`; the gateway answers with "
                    "grounded templates meanwhile)") if spec.name == RESPONDER else ""
            self.reason = f"model {spec.name!r} not found at {spec.path}{hint}"
            log.warning(self.reason)
            return
        self.reason = f"loading model {spec.name!r} from {spec.path}"
        try:
            from services.llm.model.loader import load_gguf, load_hf_folder
            from services.llm.model.quant import quantize_int8

            if self.llm.threads:
                torch.set_num_threads(self.llm.threads)
            dtype = DTYPES.get(self.llm.dtype, torch.float32)
            device = "cuda" if torch.cuda.is_available() and os.environ.get("KEFU_LLM_DEVICE", "") != "cpu" else "cpu"
            loader = load_gguf if spec.kind == "gguf" else load_hf_folder
            loaded = loader(spec.path, dtype=dtype, device=device, name=spec.name)
            if self.llm.int8:
                quantize_int8(loaded.model)
            engine = Engine(loaded, EngineConfig(
                max_batch=self.llm.max_batch, max_queue=self.llm.max_queue, max_len=self.llm.max_len,
                prefill_chunk=self.llm.prefill_chunk, request_timeout_s=self.llm.timeout_s)).start()
            self.engine = engine
            self._serving = OpenAIServing(engine, spec.name, spec.aliases | {self.model_value})
            self.reason = ""
            log.info("serving %s (%s) with context %d", spec.name, loaded.config.arch, engine.max_len)
        except Exception as exc:  # report in /readyz instead of crashing the service
            log.exception("model load failed")
            self.reason = f"model {spec.name!r} failed to load: {type(exc).__name__}: {exc}"

    def serving(self) -> OpenAIServing:
        if self._serving is None:
            raise APIError(503, "not_ready", self.reason or "model not loaded", headers={"Retry-After": "5"})
        return self._serving

    async def check(self) -> Check:
        if self.upstream is not None:
            ok, why = await self.upstream.ping()
            return Check(ok, "" if ok else why, {"mode": "upstream", "upstream": self.upstream.base,
                                                 "circuit": self.upstream.breaker.state})
        if self.engine is None:
            return Check(False, self.reason or "model not loaded", {"mode": "local"})
        if not self.engine.alive:
            return Check(False, f"engine stopped: {self.engine.error}", {"mode": "local"})
        return Check(True, "", {"mode": "local", "model": self._serving.model_name if self._serving else None,
                                "context_window": self.engine.max_len})

    async def close(self) -> None:
        if self.engine is not None:
            self.engine.stop()
        if self.upstream is not None:
            await self.upstream.aclose()
