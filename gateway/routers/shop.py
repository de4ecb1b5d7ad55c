"""The demo shop's catalog pages, read from the retrieval service."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, Query

from gateway.clients import DependencyDown, DependencyError
from gateway.deps import GatewayDep, limit_reads
from gateway.shop import page_products
from kefu.errors import APIError, error_responses

log = logging.getLogger("kefu.gateway")
router = APIRouter(prefix="/v1/shop", tags=["shop"], dependencies=[Depends(limit_reads)],
                   responses=error_responses(404))
MAX_OFFSET = 1_000_000  # the retrieval service's bound too: a bad page is our 422, never its 500
PRODUCT_FIELDS = ("id", "title", "description", "price", "currency", "category", "brand", "stock", "url",
                  "image_url", "attributes")


def _unavailable(exc: DependencyDown) -> APIError:
    """The reason (a connect error's text, a host:port) goes to the log, never to the client."""
    log.warning("catalog unavailable: %s", exc)
    return APIError(503, "unavailable", "the catalog is briefly unavailable; try again shortly",
                    headers={"Retry-After": "5"})


@router.get("/config", summary="Shop name and language for the widget")
async def shop_config(gw: GatewayDep) -> dict[str, Any]:
    return {"shop_name": gw.s.shop_name, "lang": gw.s.shop_lang, "llm": gw.s.llm_enabled}


@router.get("/products", summary="Catalog page for the demo shop (from retrieval)")
async def shop_products(gw: GatewayDep, limit: int = Query(24, ge=1, le=100),
                        offset: int = Query(0, ge=0, le=MAX_OFFSET),
                        category: str | None = Query(None, max_length=128)) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if category:
        params["category"] = category
    try:
        data = await gw.deps.list_products(params)
    except DependencyDown as exc:
        raise _unavailable(exc) from exc
    except DependencyError as exc:
        raise APIError(exc.status, "bad_request", "catalog rejected the request", extra={"detail": exc.body}) from exc
    products, total = page_products(data)
    out: dict[str, Any] = {"products": products, "total": total if total is not None else len(products),
                           "limit": limit, "offset": offset}
    try:
        cats, partial = await gw.categories.get(None if category else total)
        out["categories"] = [c["name"] for c in cats]
        out["category_counts"] = cats
        if partial:
            out["categories_partial"] = True
    except (DependencyDown, DependencyError) as exc:
        log.warning("category list unavailable: %s", exc)  # the page still answers
    return out


@router.get("/products/{product_id}", summary="One product (for /p/{id} pages)")
async def shop_product(product_id: str, gw: GatewayDep) -> dict[str, Any]:
    if not 0 < len(product_id) <= 64:
        raise APIError(404, "not_found", "unknown product")
    try:
        p = await gw.deps.get_product(product_id)
    except DependencyDown as exc:
        raise _unavailable(exc) from exc
    except DependencyError as exc:
        if exc.status == 404:
            raise APIError(404, "not_found", f"no product with id {product_id!r}") from exc
        raise APIError(400, "bad_request", "catalog rejected the request", extra={"detail": exc.body}) from exc
    if isinstance(p, dict) and isinstance(p.get("product"), dict):
        p = p["product"]
    if not isinstance(p, dict) or not p.get("id"):
        raise APIError(404, "not_found", f"no product with id {product_id!r}")
    return {k: p.get(k) for k in PRODUCT_FIELDS}
