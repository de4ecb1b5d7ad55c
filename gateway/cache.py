"""Response cache in Redis for policy/FAQ-like turns.

The key covers everything that could change the answer: intent, language, non-personal slots,
the normalised text, and the catalog/model versions. Turns carrying personal data (orders,
emails, phone numbers) are never cached.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from prometheus_client import Counter
from redis.asyncio import Redis

from kefu.vocab import order_ids

CACHE = Counter("kefu_gateway_cache_total", "response cache lookups", ["outcome"])

CACHEABLE_INTENTS = {"greeting", "goodbye", "thanks", "shipping_info", "return_request", "payment_issue",
                     "coupon", "account_help", "out_of_scope"}
PERSONAL_SLOTS = {"order_id", "order", "email", "phone", "name", "address", "card"}
_PUNCT = re.compile(r"[^\w\s]+", re.UNICODE)
_PERSONAL_TEXT = re.compile(r"@|\d{5,}")


def normalise(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


class ResponseCache:
    def __init__(self, redis: Redis, prefix: str, ttl_s: int) -> None:
        self.redis = redis
        self.prefix = prefix + "gw:cache:"
        self.ttl_s = ttl_s
        self.hits = 0
        self.lookups = 0

    @staticmethod
    def cacheable(intent: str, slots: dict[str, Any], text: str) -> bool:
        if intent not in CACHEABLE_INTENTS:
            return False
        if any(k in PERSONAL_SLOTS and v for k, v in slots.items()):
            return False
        return not _PERSONAL_TEXT.search(text) and order_ids().find(text) is None

    def key(self, *, intent: str, lang: str, slots: dict[str, Any], text: str,
            catalog_version: str, model_version: str) -> str:
        clean = {k: v for k, v in sorted(slots.items()) if k not in PERSONAL_SLOTS}
        raw = json.dumps([intent, lang, clean, normalise(text), catalog_version, model_version],
                         ensure_ascii=False, sort_keys=True, default=str)
        return self.prefix + hashlib.sha256(raw.encode()).hexdigest()[:40]

    async def get(self, key: str) -> str | None:
        self.lookups += 1
        try:
            value = await self.redis.get(key)
        except Exception:
            CACHE.labels("error").inc()
            return None
        if value is None:
            CACHE.labels("miss").inc()
            return None
        self.hits += 1
        CACHE.labels("hit").inc()
        return value.decode() if isinstance(value, bytes) else str(value)

    async def put(self, key: str, reply: str) -> None:
        try:
            await self.redis.set(key, reply, ex=self.ttl_s)
        except Exception:
            CACHE.labels("error").inc()

    @property
    def hit_rate(self) -> float:
        return self.hits / self.lookups if self.lookups else 0.0
