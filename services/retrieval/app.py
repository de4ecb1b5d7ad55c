"""Routes of the retrieval service (HTTP only): wire models in schemas.py, the index in engine.py,
the catalog in catalog.py, what the service holds while it runs in runtime.py. The one Runtime
lives on `app.state.retrieval`; routes get it through the `RuntimeDep` dependency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request
from sqlalchemy.orm import Session

from kefu.errors import APIError, error_responses
from kefu.service import create_app as create_service_app
from kefu.service_auth import INTERNAL, INTERNAL_RESPONSES, protect
from kefu.settings import Settings, get_settings

from .catalog import MAX_OFFSET, MAX_PAGE, get_product, list_products, product_dict, validate_batch
from .kb import api as kb_api
from .runtime import Runtime, remove_product, store_products
from .schemas import (
    DeleteResult,
    KbDocumentIn,
    KbSearchBody,
    KbSearchResponse,
    ProductIn,
    ProductList,
    ProductOut,
    SearchBody,
    SearchResponse,
    UpsertResult,
)

MAX_UPSERT = 1000
MAX_IDS = 500


async def get_runtime(request: Request) -> Runtime:
    """async: FastAPI runs a plain-def dependency in the thread pool, a thread hop per request."""
    return request.app.state.retrieval


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# Path ids are bounded and printable: a NUL is a driver error on PostgreSQL (a 500), not a lookup.
ItemId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f]+$")]
router = APIRouter()
NOT_FOUND = error_responses(404)  # routes naming one product or document


@router.post("/v1/search", response_model=SearchResponse, tags=["search"])
def search(body: SearchBody, rt: RuntimeDep) -> SearchResponse:
    return rt.engine_or_503().search(body)


@router.post("/v1/products", response_model=UpsertResult, tags=["catalog"],
             summary="Upsert one product or a list; re-embeds and updates the index before answering")
def upsert(rt: RuntimeDep, payload: ProductIn | list[ProductIn] = Body(...)) -> UpsertResult:
    eng = rt.engine_or_503()
    items = payload if isinstance(payload, list) else [payload]
    if not items:
        raise APIError(422, "invalid_request", "no products given")
    if len(items) > MAX_UPSERT:
        raise APIError(413, "payload_too_large", f"at most {MAX_UPSERT} products per request")
    rows, errors = validate_batch([item.model_dump() for item in items])
    if errors:  # all or nothing: the caller fixes the batch and sends it again
        raise APIError(422, "invalid_product", f"{len(errors)} product(s) rejected; nothing was stored",
                       extra={"rejections": errors})
    added, updated, unchanged, version = store_products(eng, rows)
    return UpsertResult(added=added, updated=updated, unchanged=unchanged, index_version=version)


@router.delete("/v1/products/{product_id}", response_model=DeleteResult, tags=["catalog"], responses=NOT_FOUND)
def delete(product_id: ItemId, rt: RuntimeDep) -> DeleteResult:
    version = remove_product(rt.engine_or_503(), product_id)
    if version is None:
        raise APIError(404, "not_found", f"no product with id {product_id!r}")
    return DeleteResult(deleted=product_id, index_version=version)


@router.get("/v1/products/{product_id}", response_model=ProductOut, tags=["catalog"], responses=NOT_FOUND)
def get_one(product_id: ItemId, rt: RuntimeDep) -> dict[str, Any]:
    with Session(rt.engine.engine) as s:
        p = get_product(s, product_id)
        if p is None:
            raise APIError(404, "not_found", f"no product with id {product_id!r}")
        return product_dict(p)


def _wanted(ids: str | None) -> list[str] | None:
    """The `ids` parameter as a list (None: not given); an empty or too long list is a 422."""
    if ids is None:
        return None
    wanted = [i.strip() for i in ids.split(",") if i.strip()]
    if not wanted:
        raise APIError(422, "invalid_request", "ids is empty")
    if len(wanted) > MAX_IDS:
        raise APIError(422, "invalid_request", f"at most {MAX_IDS} ids per request")
    return wanted


@router.get("/v1/products", response_model=ProductList, tags=["catalog"])
def list_all(rt: RuntimeDep, limit: int = Query(50, ge=1, le=MAX_PAGE), offset: int = Query(0, ge=0, le=MAX_OFFSET),
             category: str | None = Query(None, max_length=128),
             ids: str | None = Query(None, max_length=4096, description="comma-separated product ids; "
                                     "returns just those, in this order (unknown ids left out)")
             ) -> dict[str, Any]:
    wanted = _wanted(ids)
    with Session(rt.engine.engine) as s:
        items, total = list_products(s, limit=limit, offset=offset, category=category, ids=wanted)
        return {"items": [product_dict(p) for p in items], "total": total, "limit": limit, "offset": offset}


@router.get("/v1/index", tags=["ops"], summary="Index version, size, kind, recall and lag behind the catalog")
def index_status(rt: RuntimeDep) -> dict[str, Any]:
    return rt.index_report()


@router.post("/v1/kb/search", response_model=KbSearchResponse, tags=["knowledge base"],
             summary="The passages that answer a question, best first; none when nothing scores high enough")
def kb_search(body: KbSearchBody, rt: RuntimeDep) -> KbSearchResponse:
    return kb_api.search(rt.kb_or_503(), body)


@router.get("/v1/kb/documents", tags=["knowledge base"], summary="Imported documents, versions, passage counts")
def kb_documents(rt: RuntimeDep) -> dict[str, Any]:
    return {"documents": kb_api.documents(rt.kb)}


@router.post("/v1/kb/documents", status_code=201, tags=["knowledge base"],
             summary="Import (or re-import) one document; indexed before the answer")
def kb_upload(body: KbDocumentIn, rt: RuntimeDep) -> dict[str, Any]:
    return kb_api.upload(rt.kb, body)


@router.delete("/v1/kb/documents/{document_id}", tags=["knowledge base"], responses=NOT_FOUND)
def kb_delete(document_id: ItemId, rt: RuntimeDep) -> dict[str, Any]:
    return kb_api.delete(rt.kb, document_id)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The first sync runs in the background so the service answers (and /readyz explains) at once."""
    task = asyncio.create_task(app.state.retrieval.watch())
    yield
    task.cancel()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    rt = Runtime(settings)
    app = create_service_app("retrieval", title="kefu retrieval",
                             description="Product catalog (SQL), FAISS + BM25 hybrid search",
                             checks={"index": rt.check, "knowledge_base": rt.check_kb}, lifespan=lifespan,
                             max_body_bytes=max(settings.max_body_bytes, 4 * 1024 * 1024))
    app.state.retrieval = rt
    protect(app, settings)
    app.include_router(router, dependencies=INTERNAL, responses=INTERNAL_RESPONSES)
    return app
