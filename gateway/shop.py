"""The demo shop's view of the catalog: pages, one product, and the category list, all read
from the retrieval service's catalog endpoints (the gateway never reads the products table).

Retrieval has no category endpoint, so the category list is built by paging its list endpoint
(500 per call) and kept for a minute — or until the catalog's total changes — so the shop's
filter bar costs one page read, not a catalog scan, per visit.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from gateway.clients import Dependencies

PAGE = 500
MAX_PAGES = 40  # 20,000 products; past that the list is partial and says so
TTL_S = 60.0


def page_products(data: Any) -> tuple[list[dict[str, Any]], int | None]:
    """(products, total) from retrieval's list answer, whatever its envelope."""
    if isinstance(data, list):
        return data, None
    if not isinstance(data, dict):
        return [], None
    items = data.get("products") or data.get("items") or data.get("hits") or []
    total = data.get("total")
    return list(items), int(total) if isinstance(total, int | float) else None


class CategoryIndex:
    """Distinct catalog categories with counts (and the Chinese label when the catalog has one)."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps
        self._lock = asyncio.Lock()
        self._at = 0.0
        self._total: int | None = None
        self._value: list[dict[str, Any]] = []
        self._partial = False

    def fresh(self, total: int | None) -> bool:
        return bool(self._at) and time.monotonic() - self._at < TTL_S and (total is None or total == self._total)

    async def get(self, total: int | None = None) -> tuple[list[dict[str, Any]], bool]:
        """(categories, partial); raises DependencyDown/DependencyError when retrieval fails."""
        if self.fresh(total):
            return self._value, self._partial
        async with self._lock:
            if self.fresh(total):
                return self._value, self._partial
            counts: Counter[str] = Counter()
            zh: dict[str, str] = {}
            seen = 0
            grand: int | None = None
            for page in range(MAX_PAGES):
                items, grand = page_products(await self.deps.list_products({"limit": PAGE, "offset": page * PAGE}))
                for p in items:
                    c = str(p.get("category") or "").strip()
                    if c:
                        counts[c] += 1
                        label = (p.get("attributes") or {}).get("category_zh")
                        if label and c not in zh:
                            zh[c] = str(label)
                seen += len(items)
                if len(items) < PAGE or (grand is not None and seen >= grand):
                    break
            self._value = [{"name": c, "count": n, **({"name_zh": zh[c]} if c in zh else {})}
                           for c, n in sorted(counts.items())]
            self._partial = grand is not None and seen < grand
            self._total = grand if grand is not None else seen
            self._at = time.monotonic()
            return self._value, self._partial
