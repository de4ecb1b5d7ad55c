"""First-run build for retrieval: the bundled demo catalog into SQL (if the catalog is empty),
then the search index brought in step with it (embeddings cached, so a re-run is quick); and the
knowledge base: the shop's help-center folder (`KEFU_KB_DIR`) or, without one, the bundled demo
policy, imported through the same path as `kefu kb import` (re-imports change only what changed)."""

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
    build_kb(settings)


def kb_sources(settings: Settings) -> list[Path]:
    """The shop's folder when KEFU_KB_DIR names one, else the bundled demo policy (en.md, zh.md)."""
    if settings.kb_dir:
        return [Path(settings.kb_dir)]
    from kefu.data import LANGS, policy_path

    return [policy_path(lang) for lang in LANGS]


def build_kb(settings: Settings) -> None:
    from kefu.data import LANGS, policy_path

    from .kb import open_kb
    from .kb.store import import_paths, remove_document

    sources = kb_sources(settings)
    engine = get_engine(settings.sql_url)
    report = import_paths(engine, sources)
    if settings.kb_dir:  # the shop's own help center replaces the demo policy
        report.removed += [str(p) for p in map(policy_path, LANGS) if remove_document(engine, str(p))]
    for f in report.failed:
        print(f"[retrieval] knowledge base: {f['file']}: {f['error']} (skipped)", file=sys.stderr, flush=True)
    stats = open_kb(settings).sync()
    print(f"[retrieval] knowledge base from {', '.join(map(str, sources))}: {len(report.added)} added, "
          f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, {len(report.removed)} removed; "
          f"{stats['passages']} passages indexed with {stats['model']}", file=sys.stderr, flush=True)
