"""The generation service's part of the one Settings object: the shared fields plus KEFU_LLM_* knobs
only this service reads (a subclass, like the gateway's, so a process still has one settings object)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kefu.settings import Settings


class LLMSettings(Settings):
    model_config = SettingsConfigDict(env_prefix="KEFU_LLM_", extra="ignore", populate_by_name=True)

    upstream: str = Field("", description="OpenAI-compatible base URL to proxy to (vLLM, SGLang…)")
    upstream_api_key: str = ""
    upstream_timeout_s: float = 60.0
    upstream_retries: int = 2
    # The upstream serves a kefu delexicalised model (kefu-responder under vLLM, say): fill its
    # [order.tracking]-style placeholders from the request's FACTS here, as local serving does.
    upstream_delexicalised: bool = False
    max_batch: int = 16
    max_queue: int = 64
    max_len: int | None = None
    timeout_s: float = 120.0
    prefill_chunk: int = 256
    dtype: str = "float32"  # float32 | bfloat16 | float16
    int8: bool = False  # weight-only INT8 for linear layers
    threads: int | None = None


def get_llm_settings() -> LLMSettings:
    return LLMSettings()
