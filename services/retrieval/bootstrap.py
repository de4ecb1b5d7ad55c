"""First-run build for retrieval: the bundled demo catalog into SQL (if the catalog is empty),
then the search index brought in step with it (embeddings cached, so a re-run is quick)."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy.orm import Session

from kefu.db import get_engine
from kefu.settings import Settings

from .catalog import catalog_signature, import_file


def bundled_catalog() -> Path | None:
    try:
        from kefu.data import catalog_path
    except ImportError:
        path = Path(__file__).resolve().parents[2] / "kefu" / "data" / "catalog.jsonl"
    else:
        path = Path(catalog_path())
    return path if path.exists() else None


def build(settings: Settings, *, quick: bool = False, force: bool = False) -> None:
    """Idempotent: an existing catalog is never overwritten; `force` rebuilds the index fully."""
    from .engine import RetrievalEngine

    with Session(get_engine(settings.sql_url)) as s:
        count, _ = catalog_signature(s)
    if count == 0:
        src = bundled_catalog()
        if src is None:
            print("[retrieval] no bundled catalog found (kefu/data/catalog.jsonl); index left empty",
                  file=sys.stderr, flush=True)
        else:
            report = import_file(settings.sql_url, src)
            print(f"[retrieval] imported bundled catalog: {report.added} products, "
                  f"{len(report.rejected)} rejected", file=sys.stderr, flush=True)
    else:
        print(f"[retrieval] catalog has {count} products; keeping it", file=sys.stderr, flush=True)
    eng = RetrievalEngine(settings)
    eng.sync(full=force)
    eng.embedder.encode_query("warm up")  # exports the ONNX query encoder now, not on the first query
