"""Gateway tunables on top of the shared Settings (one pydantic-settings object per process).

Everything here has a default that works for `kefu up`; the environment can override it
(e.g. KEFU_RATE_LIMIT_MESSAGES_PER_MIN) without code changes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator

from gateway.forwarded import parse_trusted
from kefu.settings import Settings, _alias


class GatewaySettings(Settings):
    """Shared Settings plus the gateway's own knobs (budgets, limits, breaker, cache)."""

    # Per-step time budgets (seconds): a slow dependency costs at most this much of a turn.
    budget_lock_s: float = Field(5.0, validation_alias=_alias("KEFU_BUDGET_LOCK_S", "budget_lock_s"))
    budget_resolve_s: float = Field(0.8, validation_alias=_alias("KEFU_BUDGET_RESOLVE_S", "budget_resolve_s"))
    budget_intent_s: float = Field(0.8, validation_alias=_alias("KEFU_BUDGET_INTENT_S", "budget_intent_s"))
    budget_retrieval_s: float = Field(1.5, validation_alias=_alias("KEFU_BUDGET_RETRIEVAL_S",
                                                                   "budget_retrieval_s"))
    budget_llm_first_token_s: float = Field(4.0, validation_alias=_alias("KEFU_BUDGET_LLM_FIRST_S",
                                                                         "budget_llm_first_token_s"))
    budget_llm_total_s: float = Field(15.0, validation_alias=_alias("KEFU_BUDGET_LLM_TOTAL_S",
                                                                    "budget_llm_total_s"))
    budget_orders_s: float = Field(2.0, validation_alias=_alias("KEFU_BUDGET_ORDERS_S", "budget_orders_s"))
    budget_record_s: float = Field(2.0, validation_alias=_alias("KEFU_BUDGET_RECORD_S", "budget_record_s"))
    llm_max_tokens: int = Field(120, validation_alias=_alias("KEFU_LLM_MAX_TOKENS", "llm_max_tokens"))

    # Circuit breaker: open after N consecutive failures, probe again after cooldown.
    breaker_failures: int = Field(3, validation_alias=_alias("KEFU_BREAKER_FAILURES", "breaker_failures"))
    breaker_cooldown_s: float = Field(10.0, validation_alias=_alias("KEFU_BREAKER_COOLDOWN_S",
                                                                    "breaker_cooldown_s"))

    # Rate limits (fixed one-minute windows in Redis); KEFU_RATE_LIMITS=off disables all.
    rate_limit_ip_per_min: int = Field(240, validation_alias=_alias("KEFU_RATE_LIMIT_IP_PER_MIN",
                                                                    "rate_limit_ip_per_min"))
    rate_limit_conv_per_min: int = Field(30, validation_alias=_alias("KEFU_RATE_LIMIT_CONV_PER_MIN",
                                                                     "rate_limit_conv_per_min"))
    rate_limit_new_conv_per_min: int = Field(
        30, validation_alias=_alias("KEFU_RATE_LIMIT_NEW_CONV_PER_MIN", "rate_limit_new_conv_per_min"))
    # Proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For names the client; empty = none.
    trusted_proxies: str = Field("", validation_alias=_alias("KEFU_TRUSTED_PROXIES", "trusted_proxies"))

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, v: str) -> str:
        parse_trusted(v)  # a typo fails at start, not silently per request
        return v

    # Agent keys: wrong keys per client address and minute before it is locked out (0 = never),
    # and for how long (seconds); independent of KEFU_RATE_LIMITS (security.AgentLockout).
    agent_key_max_failures: int = Field(10, ge=0, validation_alias=_alias("KEFU_AGENT_KEY_MAX_FAILURES",
                                                                          "agent_key_max_failures"))
    agent_lockout_s: int = Field(300, ge=1, validation_alias=_alias("KEFU_AGENT_LOCKOUT_S", "agent_lockout_s"))
    # Origins allowed to call the agent API cross-origin (comma-separated); empty = only the
    # dashboard the gateway serves itself (same origin). The shopper API keeps KEFU_CORS_ORIGINS.
    agent_cors_origins: str = Field("", validation_alias=_alias("KEFU_AGENT_CORS_ORIGINS", "agent_cors_origins"))

    # Orders: where they live, how a shopper proves one is theirs, what the shop's policy allows.
    orders_source: str = Field("sql", validation_alias=_alias("KEFU_ORDERS", "orders_source"))
    orders_url: str = Field("", validation_alias=_alias("KEFU_ORDERS_URL", "orders_url"))
    orders_token: str = Field("", validation_alias=_alias("KEFU_ORDERS_TOKEN", "orders_token"))
    verify_factor: Literal["email", "phone", "postcode"] = Field(
        "email", validation_alias=_alias("KEFU_VERIFY_FACTOR", "verify_factor"))
    verify_max_failures: int = Field(10, validation_alias=_alias("KEFU_VERIFY_MAX_FAILURES", "verify_max_failures"))
    verify_max_per_order_hour: int = Field(
        30, validation_alias=_alias("KEFU_VERIFY_MAX_PER_ORDER_HOUR", "verify_max_per_order_hour"))
    identity_secret: str = Field("", validation_alias=_alias("KEFU_IDENTITY_SECRET", "identity_secret"))
    policy_rules: str = Field("", validation_alias=_alias("KEFU_POLICY_RULES", "policy_rules"))

    cache_ttl_s: int = Field(3600, validation_alias=_alias("KEFU_CACHE_TTL_S", "cache_ttl_s"))
    shop_name: str = Field("Kefu Demo Shop", validation_alias=_alias("KEFU_SHOP_NAME", "shop_name"))
    shop_lang: str = Field("en", validation_alias=_alias("KEFU_SHOP_LANG", "shop_lang"))
    max_text_chars: int = Field(4000, validation_alias=_alias("KEFU_MAX_TEXT_CHARS", "max_text_chars"))


@lru_cache
def get_gateway_settings() -> GatewaySettings:
    return GatewaySettings()
