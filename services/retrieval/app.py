"""Retrieval service (HTTP only; the work is in engine.py / catalog.py).

Starts answering at once; /readyz is 503 until the index is loaded and in step with the catalog
(the first sync may embed products). A watcher keeps the index in step with SQL changes made
by other processes (`kefu catalog import`), so the index never silently drifts from the catalog.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from kefu.errors import APIError
from kefu.service import Check
from kefu.service import create_app as create_service_app
from kefu.settings import get_settings

from .catalog import (
    RowError,
    delete_product,
    get_product,
    list_products,
    product_dict,
    upsert_products,
    validate_row,
)
from .engine import RetrievalEngine
from .schemas import DeleteResult, ProductIn, ProductList, ProductOut, SearchBody, SearchResponse, UpsertResult

log = logging.getLogger("kefu.retrieval")
MAX_UPSERT = 1000


class State:
    def __init__(self) -> None:
        self.engine = RetrievalEngine(get_settings())
        self.ready = threading.Event()
        self.error: str | None = None

    def start(self) -> None:
        try:
            if self.engine.snap is None:
                self.engine.load()
            self.engine.sync()
            self.engine.embedder.encode_query("warm up")  # load the model before the first shopper
            self.error = None
            self.ready.set()
        except Exception as exc:  # reported by /readyz, retried by the watcher
            log.exception("index sync failed")
            self.error = f"{type(exc).__name__}: {exc}"

    def engine_or_503(self) -> RetrievalEngine:
        if not self.ready.is_set():
            raise APIError(503, "index_not_ready", self.error or "the search index is still loading")
        return self.engine


def create_app() -> FastAPI:
    state = State()

    async def watch() -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, state.start)
        while True:
            await asyncio.sleep(get_settings().retrieval_watch_s)
            try:
                eng = state.engine
                snap = eng.snap
                count, wm = await run_in_threadpool(eng.signature)
                if snap is None or (count, wm) != (snap.catalog_count, snap.watermark) or not state.ready.is_set():
                    await loop.run_in_executor(None, state.start)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("catalog watch failed")

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        task = asyncio.create_task(watch())
        app.state.retrieval = state
        yield
        task.cancel()

    async def index_check() -> Check:
        if not state.ready.is_set():
            return Check(False, state.error or "index loading")
        detail = await run_in_threadpool(state.engine.status)
        return Check(True, detail=detail)

    app = create_service_app("retrieval", title="kefu retrieval",
                             description="Product catalog (SQL), FAISS + BM25 hybrid search",
                             checks={"index": index_check}, lifespan=lifespan,
                             max_body_bytes=max(get_settings().max_body_bytes, 4 * 1024 * 1024))

    @app.post("/v1/search", response_model=SearchResponse, tags=["search"])
    def search(body: SearchBody) -> SearchResponse:
        return state.engine_or_503().search(body)

    @app.post("/v1/products", response_model=UpsertResult, tags=["catalog"],
              summary="Upsert one product or a list; re-embeds and updates the index before answering")
    def upsert(payload: ProductIn | list[ProductIn] = Body(...)) -> UpsertResult:
        eng = state.engine_or_503()
        items = payload if isinstance(payload, list) else [payload]
        if not items:
            raise APIError(422, "invalid_request", "no products given")
        if len(items) > MAX_UPSERT:
            raise APIError(413, "payload_too_large", f"at most {MAX_UPSERT} products per request")
        rows, errors = [], []
        for i, item in enumerate(items):
            try:
                rows.append(validate_row(item.model_dump()))
            except RowError as exc:
                errors.append({"index": i, "id": item.id, "reason": str(exc)})
        if errors:  # all or nothing: the caller fixes the batch and sends it again
            raise APIError(422, "invalid_product", f"{len(errors)} product(s) rejected; nothing was stored",
                           extra={"rejections": errors})
        with Session(eng.engine, expire_on_commit=False) as s, s.begin():
            added, updated, unchanged = upsert_products(s, rows)
        stats = eng.apply_ids(added + updated + unchanged, [])
        return UpsertResult(added=added, updated=updated, unchanged=unchanged, index_version=stats["version"])

    @app.delete("/v1/products/{product_id}", response_model=DeleteResult, tags=["catalog"])
    def delete(product_id: str) -> DeleteResult:
        eng = state.engine_or_503()
        with Session(eng.engine) as s, s.begin():
            found = delete_product(s, product_id)
        if not found:
            raise APIError(404, "not_found", f"no product with id {product_id!r}")
        stats = eng.apply_ids([], [product_id])
        return DeleteResult(deleted=product_id, index_version=stats["version"])

    @app.get("/v1/products/{product_id}", response_model=ProductOut, tags=["catalog"])
    def get_one(product_id: str) -> dict[str, Any]:
        with Session(state.engine.engine) as s:
            p = get_product(s, product_id)
            if p is None:
                raise APIError(404, "not_found", f"no product with id {product_id!r}")
            return product_dict(p)

    @app.get("/v1/products", response_model=ProductList, tags=["catalog"])
    def list_all(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                 category: str | None = Query(None, max_length=128),
                 ids: str | None = Query(None, max_length=4096, description="comma-separated product ids; "
                                         "returns just those, in this order (unknown ids left out)")
                 ) -> dict[str, Any]:
        wanted = [i.strip() for i in ids.split(",") if i.strip()] if ids is not None else None
        if wanted is not None and not wanted:
            raise APIError(422, "invalid_request", "ids is empty")
        if wanted is not None and len(wanted) > 500:
            raise APIError(422, "invalid_request", "at most 500 ids per request")
        with Session(state.engine.engine) as s:
            items, total = list_products(s, limit=limit, offset=offset, category=category, ids=wanted)
            return {"items": [product_dict(p) for p in items], "total": total, "limit": limit, "offset": offset}

    @app.get("/v1/index", tags=["ops"], summary="Index version, size, kind, recall and lag behind the catalog")
    def index_status(request: Request) -> dict[str, Any]:
        return {"ready": state.ready.is_set(), "error": state.error, **state.engine.status(),
                "last_sync": state.engine.last_sync}

    return app
