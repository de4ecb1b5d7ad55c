"""One Settings object for every kefu process.

Environment variables named in the contract (REDIS_URL, DATABASE_URL, KEFU_*) are read here and
nowhere else, so a service started alone behaves exactly like one started by `kefu up`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path(".kefu"), validation_alias=_alias("KEFU_DATA_DIR", "data_dir"))
    database_url: str | None = Field(None, validation_alias=_alias("DATABASE_URL", "database_url"))
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", validation_alias=_alias("REDIS_URL", "redis_url")
    )
    redis_prefix: str = Field("kefu:", validation_alias=_alias("KEFU_REDIS_PREFIX", "redis_prefix"))
    # Hash-slot groups of the dialog's conversations and transcript streams (0 = 1 on one Redis,
    # 16 on a Cluster). Fixed for a deployment's life: a conversation's keys are found by it.
    redis_shards: int = Field(0, ge=0, le=1024, validation_alias=_alias("KEFU_REDIS_SHARDS", "redis_shards"))

    # Where the services find each other (kefu up derives these from --port).
    intent_url: str = Field("http://127.0.0.1:8001", validation_alias=_alias("KEFU_INTENT_URL", "intent_url"))
    dialog_url: str = Field("http://127.0.0.1:8002", validation_alias=_alias("KEFU_DIALOG_URL", "dialog_url"))
    retrieval_url: str = Field(
        "http://127.0.0.1:8003", validation_alias=_alias("KEFU_RETRIEVAL_URL", "retrieval_url")
    )
    # OpenAI-compatible base URL (ending in /v1 or not); "off" (the default, the best measured on
    # the dev set: BENCHMARKS.md) = grounded templates only; `kefu up` reads "local" as its own llm service.
    llm_url: str = Field("off", validation_alias=_alias("KEFU_LLM_URL", "llm_url"))
    llm_model: str = Field("kefu-responder", validation_alias=_alias("KEFU_LLM_MODEL", "llm_model"))
    # Bearer key of an external OpenAI-compatible endpoint (the DeepSeek API, a vLLM started with
    # --api-key). The internal token is never sent to an https:// LLM URL (kefu.service_auth).
    llm_api_key: str = Field("", validation_alias=_alias("KEFU_LLM_API_KEY", "llm_api_key"))
    # How the intent service asks the LLM for structured understanding: json_schema (vLLM, SGLang,
    # OpenAI) or json_object (the DeepSeek API's JSON mode). services/intent/llm_understand.py.
    llm_json_mode: Literal["json_schema", "json_object"] = Field(
        "json_schema", validation_alias=_alias("KEFU_LLM_JSON_MODE", "llm_json_mode"))

    # The shop's own country (ISO 3166-1 alpha-2): a question naming another country or its
    # states is about international shipping (kefu.vocab.places).
    shop_country: str = Field("US", min_length=2, max_length=2,
                              validation_alias=_alias("KEFU_SHOP_COUNTRY", "shop_country"))
    # The shop's order ids as a regular expression of one id (kefu.vocab.orders explains the rules).
    order_id_pattern: str = Field(r"KF\d{6}", validation_alias=_alias("KEFU_ORDER_ID_PATTERN", "order_id_pattern"))
    order_id_example: str = Field("KF100001", validation_alias=_alias("KEFU_ORDER_ID_EXAMPLE", "order_id_example"))

    agent_key: str | None = Field(None, validation_alias=_alias("KEFU_AGENT_KEY", "agent_key"))
    # Shared secret of the internal calls (kefu.service_auth); empty: the data dir's file, else none.
    internal_token: str = Field("", validation_alias=_alias("KEFU_INTERNAL_TOKEN", "internal_token"))
    rate_limits: str = Field("on", validation_alias=_alias("KEFU_RATE_LIMITS", "rate_limits"))
    cors_origins: str = Field("*", validation_alias=_alias("KEFU_CORS_ORIGINS", "cors_origins"))
    max_body_bytes: int = Field(64 * 1024, validation_alias=_alias("KEFU_MAX_BODY_BYTES", "max_body_bytes"))

    conversation_ttl_s: int = Field(1800, validation_alias=_alias("KEFU_CONVERSATION_TTL_S", "conversation_ttl_s"))
    # Transcript writer (Redis Stream -> SQL): its own process (default), a task in the dialog
    # service ("inline"), or "off" when `kefu dialog writer` runs elsewhere.
    dialog_writer: Literal["process", "inline", "off"] = Field(
        "process", validation_alias=_alias("KEFU_DIALOG_WRITER", "dialog_writer"))
    intent_reranker: str = Field("embedding", validation_alias=_alias("KEFU_INTENT_RERANKER", "intent_reranker"))

    # Retrieval: exact FAISS below this many products, `approx_index` above; query encoder fp32|int8.
    approx_threshold: int = Field(20000, validation_alias=_alias("KEFU_APPROX_THRESHOLD", "approx_threshold"))
    # Past approx_threshold: "hnsw" (deletes leave tombstones, rebuilt past 20 % dead) or "ivf_sq8".
    approx_index: str = Field("hnsw", validation_alias=_alias("KEFU_APPROX_INDEX", "approx_index"))
    retrieval_query_encoder: str = Field(
        "fp32", validation_alias=_alias("KEFU_QUERY_ENCODER", "retrieval_query_encoder"))
    # Query embeddings kept (LRU, by lower-cased text); 0 turns the cache off.
    query_cache_size: int = Field(4096, ge=0, validation_alias=_alias("KEFU_QUERY_CACHE_SIZE", "query_cache_size"))
    embed_threads: int = Field(0, validation_alias=_alias("KEFU_EMBED_THREADS", "embed_threads"))
    retrieval_watch_s: float = Field(2.0, validation_alias=_alias("KEFU_RETRIEVAL_WATCH_S", "retrieval_watch_s"))
    # Knowledge base: the shop's help-center folder `kefu build` imports (empty: the bundled demo
    # policy), and the multilingual embedder its passages are searched with (e5 | minilm | use).
    kb_dir: str = Field("", validation_alias=_alias("KEFU_KB_DIR", "kb_dir"))
    kb_embedder: str = Field("e5", validation_alias=_alias("KEFU_KB_EMBEDDER", "kb_embedder"))

    http_timeout_s: float = Field(5.0, validation_alias=_alias("KEFU_HTTP_TIMEOUT_S", "http_timeout_s"))
    log_level: str = Field("INFO", validation_alias=_alias("KEFU_LOG_LEVEL", "log_level"))
    # OpenTelemetry (kefu.tracing): off unless a collector's OTLP/HTTP base URL is given.
    otel_endpoint: str = Field("", validation_alias=_alias(
        "KEFU_OTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT", "otel_endpoint"))
    otel_sample_ratio: float = Field(1.0, ge=0.0, le=1.0,
                                     validation_alias=_alias("KEFU_OTEL_SAMPLE_RATIO", "otel_sample_ratio"))

    @property
    def sql_url(self) -> str:
        """DATABASE_URL, else SQLite under the data dir (the embedded default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kefu.db').resolve()}"

    @property
    def llm_enabled(self) -> bool:
        return self.llm_url.strip().lower() not in {"", "off", "none", "false", "0"}

    @property
    def rate_limits_enabled(self) -> bool:
        return self.rate_limits.strip().lower() not in {"off", "false", "0", "no"}

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def kb_cache_path(self) -> Path:
        return self.data_dir / "index" / "kb_embcache.sqlite"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings; FastAPI dependencies use this (override in tests)."""
    return Settings()
