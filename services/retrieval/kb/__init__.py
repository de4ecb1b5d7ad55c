"""The shop's knowledge base: help-center files (Markdown, HTML, text, FAQ CSV) → versioned passages
in SQL (store.py, parsed by parse.py) → a hybrid index with a re-ranker and a no-answer threshold
(index.py, embedders in embedders.py) → `kefu kb import/eval` (cli.py, evaluate.py) and the
retrieval service's /v1/kb routes."""

from __future__ import annotations

from pathlib import Path

from kefu.settings import Settings

from .embedders import get_kb_embedder
from .index import KnowledgeBase


def open_kb(settings: Settings, embedder: str | None = None) -> KnowledgeBase:
    """The knowledge base of a data dir, with its embedding cache next to the product index."""
    from kefu.db import get_engine

    settings.index_dir.mkdir(parents=True, exist_ok=True)
    emb = get_kb_embedder(embedder or settings.kb_embedder, settings.models_dir,
                          threads=max(1, min(2, settings.embed_threads or 1)))
    return KnowledgeBase(get_engine(settings.sql_url), emb, Path(settings.kb_cache_path))


__all__ = ["KnowledgeBase", "open_kb"]
