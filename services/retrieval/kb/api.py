"""What the retrieval service's /v1/kb routes do, without HTTP: search, list, upload, delete.
Uploads and deletes re-index before answering, so the next question sees them."""

from __future__ import annotations

import time
from typing import Any

from kefu.errors import APIError

from ..schemas import KbDocumentIn, KbPassageOut, KbSearchBody, KbSearchResponse
from . import store
from .index import KnowledgeBase
from .parse import ParseError, format_of, parse


def search(kb: KnowledgeBase, body: KbSearchBody) -> KbSearchResponse:
    t0 = time.perf_counter()
    hits = kb.search(body.question, body.lang, body.intent, k=body.k)
    return KbSearchResponse(passages=[KbPassageOut(**h.to_dict()) for h in hits], answered=bool(hits),
                            latency_ms=round((time.perf_counter() - t0) * 1000, 2))


def documents(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return store.documents(kb.engine)


def upload(kb: KnowledgeBase, body: KbDocumentIn) -> dict[str, Any]:
    """One document from its text; a file kefu cannot read is a 422 naming why, nothing stored."""
    try:
        doc = parse(body.content, body.name, fmt=format_of(body.name), lang=body.lang)
    except ParseError as exc:
        raise APIError(422, "invalid_document", f"{body.name}: {exc}") from None
    did, outcome = store.store_document(kb.engine, doc)
    kb.sync()
    return {"id": did, "source": doc.source, "outcome": outcome, "passages": len(doc.passages),
            "version": next((d["version"] for d in store.documents(kb.engine) if d["id"] == did), None)}


def delete(kb: KnowledgeBase, document_id: str) -> dict[str, Any]:
    if not store.remove_document(kb.engine, document_id):
        raise APIError(404, "not_found", f"no document {document_id!r}")
    kb.sync()
    return {"deleted": document_id}
