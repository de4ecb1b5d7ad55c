"""Folding catalog rows into a snapshot: which products are new, re-worded, re-described or gone,
then one of three ways to change the vectors.

- a fresh index off to the side (first build, `full`, or crossing the exact/approximate line),
  vids compacted so the id space stays dense;
- HNSW in place, append-only: HNSW cannot remove ids, so a re-worded product gets a new vid and
  its old vector stays as a tombstone (`next_vid == index.ntotal` always);
- flat/IVF in place: stale ids removed, new vectors added under the same vids.

In place, the live index is changed under the write lock (searches wait the few ms it takes),
and BM25 and the filter columns are changed only where documents were, so an API write costs
its own products, not a pass over the catalog. Nothing here publishes: the caller swaps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import vectors as V
from .embed import DIM, MODEL_ID, Embeddings
from .lexical import LexicalIndex
from .rwlock import RWLock
from .snapshot import Doc, Snapshot, doc_from
from .text import embed_text, lexical_tokens, text_hash

Row = dict[str, Any]  # a product as catalog.index_rows reads it


@dataclass
class Change:
    """How the given products differ from the base snapshot, decided before anything is built."""

    old: Snapshot | None
    by_id: dict[str, Row]
    texts: dict[str, str]  # what is embedded, per product
    hashes: dict[str, str]  # of (text, model): equal hash, equal vector
    removed: set[str]
    added: list[str]
    updated: list[str]  # embedded text changed
    meta_only: list[str]  # same text; price, stock or category may have changed
    changed: list[str]  # products whose vectors are (re)computed
    rewritten: set[str]  # products whose documents are written anew
    full: bool
    need_tokens: bool  # the base was loaded from disk without BM25 tokens: rewrite every document

    @property
    def old_docs(self) -> dict[str, Doc]:
        return self.old.docs if self.old is not None else {}

    @property
    def append_only(self) -> bool:
        """HNSW changed in place, where an update gets a new vid (the old one is a tombstone)."""
        return self.old is not None and not self.full and self.old.info.kind == "hnsw"

    def stats(self, embedded: int) -> dict[str, Any]:
        return {"added": len(self.added), "updated": len(self.updated),
                "removed": len(self.removed & set(self.old_docs)), "embedded": embedded,
                "changed": len(self.changed), "meta_refreshed": len(self.meta_only)}


def plan(old: Snapshot | None, products: list[Row], removed_ids: list[str] | None, *,
         full: bool, complete: bool) -> Change:
    """Sort products into added / updated / meta-only against `old`; with `complete` (the whole
    catalog was read), any indexed product not among them is removed."""
    old_docs = old.docs if old is not None else {}
    texts = {p["id"]: embed_text(p) for p in products}
    hashes = {pid: text_hash(t, MODEL_ID) for pid, t in texts.items()}
    removed = set(removed_ids or [])
    if complete:
        removed |= set(old_docs) - set(texts)
    added, updated, meta_only = [], [], []
    for p in products:
        prev = old_docs.get(p["id"])
        if prev is None:
            added.append(p["id"])
        elif prev.hash != hashes[p["id"]]:
            updated.append(p["id"])
        else:
            meta_only.append(p["id"])
    changed = [p["id"] for p in products] if full else added + updated
    by_id = {p["id"]: p for p in products}
    need_tokens = bool(old is not None and old.tokens_missing)
    rewritten = set(changed) | set(meta_only) if not need_tokens else set(by_id)
    return Change(old=old, by_id=by_id, texts=texts, hashes=hashes, removed=removed, added=added,
                  updated=updated, meta_only=meta_only, changed=changed, rewritten=rewritten, full=full,
                  need_tokens=need_tokens)


def documents(change: Change) -> tuple[dict[str, Doc], int]:
    """The next document map and vid counter: removals dropped, rewritten products given a vid
    (flat/IVF: an update keeps its id; HNSW: it gets a new one) and their BM25 tokens."""
    old_docs = change.old_docs
    docs = dict(old_docs)
    next_vid = change.old.next_vid if change.old is not None else 0
    fresh_vid = set(change.updated) if change.append_only else set()
    for pid in change.removed:
        docs.pop(pid, None)
    for pid in change.rewritten:
        p, h = change.by_id[pid], change.hashes[pid]
        prev = old_docs.get(pid)
        vid = prev.vid if prev is not None and pid not in fresh_vid else None
        if vid is None:
            vid = next_vid
            next_vid += 1
        toks = prev.tokens if (prev is not None and prev.hash == h and prev.tokens) else lexical_tokens(p)
        docs[pid] = doc_from(p, vid, h, toks)
    return docs, next_vid


def carry_lexical(change: Change, docs: dict[str, Doc]) -> LexicalIndex | None:
    """Carry the live BM25 index over to the new snapshot, changed only where documents were
    (a write costs its own terms, not a rebuild of the catalog). None = build afresh."""
    old = change.old
    lex = old.lexical if old is not None else None
    if old is None or lex is None or change.need_tokens:
        return None
    for pid in change.removed:
        if pid in old.docs:
            lex.remove(old.docs[pid].vid)
    for pid in change.rewritten:
        d, prev = docs[pid], old.docs.get(pid)
        if prev is None or prev.vid != d.vid or prev.tokens is not d.tokens:
            if prev is not None and prev.vid != d.vid:
                lex.remove(prev.vid)
            lex.add(d.vid, d.tokens)
    return lex


def derive_columns(change: Change, snap: Snapshot, docs: dict[str, Doc]) -> None:
    """Filter columns for `snap`: folded in from the base when its index was changed in place,
    else derived from every document; category vectors kept while the categories are."""
    old = change.old
    if snap.lexical is not None and old is not None and snap.index is old.index and len(old.alive):
        gone = [change.old_docs[p] for p in change.removed | change.rewritten if p in change.old_docs]
        snap.derive_from(old, gone, [docs[p] for p in change.rewritten])
    else:
        snap.derive()
    if old is not None and old.cat_names == sorted(snap.cat_codes, key=snap.cat_codes.__getitem__):
        snap.cat_names, snap.cat_vecs = old.cat_names, old.cat_vecs


BuildIndex = Callable[[np.ndarray, np.ndarray], tuple[Any, V.BuildInfo]]  # (vectors, ids) -> index


class Indexer:
    """Builds the next snapshot from catalog rows; which FAISS index a fresh build gets is the
    caller's policy (`build`), since settings can change between builds."""

    def __init__(self, embeddings: Embeddings, lock: RWLock, build: BuildIndex) -> None:
        self.embeddings = embeddings
        self.lock = lock
        self.build = build

    def apply(self, base: Snapshot | None, products: list[Row], *, removed_ids: list[str] | None = None,
              full: bool = False, complete: bool = False) -> tuple[Snapshot, dict[str, Any]]:
        """Fold products (and removals) into `base`: the next snapshot and what changed. In place
        the base's own FAISS and BM25 indexes are changed (under the write lock)."""
        change = plan(base, products, removed_ids, full=full, complete=complete)
        vecs, embedded = self.embeddings.vectors([change.texts[p] for p in change.changed],
                                                 [change.hashes[p] for p in change.changed])
        docs, next_vid = documents(change)
        if full or change.old is None:
            snap = self._fresh(change, docs, vecs)
        elif change.append_only:
            snap = self._append(change, docs, next_vid, vecs)
        else:
            snap = self._replace(change, docs, next_vid, vecs)
        derive_columns(change, snap, docs)
        return snap, change.stats(embedded)

    def _fresh(self, change: Change, docs: dict[str, Doc], vecs: np.ndarray) -> Snapshot:
        """A new index off to the side; vids compacted so the id space stays dense."""
        order = sorted(docs.values(), key=lambda d: d.pid)
        vec_of = dict(zip(change.changed, vecs, strict=True))
        for i, d in enumerate(order):
            d.vid = i
        allv = np.stack([vec_of[d.pid] for d in order]) if order else np.zeros((0, DIM), np.float32)
        index, info = self.build(allv, np.arange(len(order), dtype=np.int64))
        version = change.old.version if change.old is not None else 0
        return Snapshot(version=version, generation=0, index=index, info=info, docs=docs,
                        next_vid=len(order), watermark="", catalog_count=0, built_at=time.time())

    def _append(self, change: Change, docs: dict[str, Doc], next_vid: int, vecs: np.ndarray) -> Snapshot:
        """HNSW in place: new vectors appended in vid order, since vid == HNSW position."""
        old = change.old
        assert old is not None
        new_docs = sorted((docs[p] for p in change.changed), key=lambda d: d.vid)
        vec_of = dict(zip(change.changed, vecs, strict=True))
        with self.lock.write():
            if [d.vid for d in new_docs] != list(range(old.index.ntotal, next_vid)):
                raise RuntimeError(f"HNSW vids out of step: ntotal {old.index.ntotal}, next_vid {next_vid}")
            if new_docs:
                old.index.add(np.ascontiguousarray(np.stack([vec_of[d.pid] for d in new_docs])))
            lexical = carry_lexical(change, docs)
        return old.in_place(docs, next_vid, lexical)

    def _replace(self, change: Change, docs: dict[str, Doc], next_vid: int, vecs: np.ndarray) -> Snapshot:
        """Flat/IVF in place: stale ids removed and new vectors added under their vids."""
        old = change.old
        assert old is not None
        stale_vids = [old.docs[p].vid for p in list(change.removed) + change.updated if p in old.docs]
        new_docs = [docs[p] for p in change.changed]
        with self.lock.write():  # searches wait for the few ms this takes
            if stale_vids:
                old.index.remove_ids(np.array(stale_vids, dtype=np.int64))
            if new_docs:
                old.index.add_with_ids(np.ascontiguousarray(vecs), np.array([d.vid for d in new_docs], dtype=np.int64))
            lexical = carry_lexical(change, docs)
        return old.in_place(docs, next_vid, lexical)
