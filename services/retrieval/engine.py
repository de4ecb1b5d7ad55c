"""The retrieval engine: catalog (SQL) -> embeddings -> FAISS + BM25 -> filtered hybrid search.

This module owns the live `Snapshot` (snapshot.py) and decides when it changes: syncing with the
catalog, applying API writes, rebuilding and saving. The work is in its parts — building and
changing indexes in indexer.py, files on disk in index_store.py, search in search.py, the
readers-writer lock in rwlock.py. A new snapshot is built next to the live one and the reference
swapped (atomic in Python), so searches never see half an update; the FAISS index itself is
changed in place only under the write lock.

An HNSW index (the default past the approximate threshold) cannot remove ids, so a removed or
re-embedded product leaves a tombstone. Past `TOMBSTONE_REBUILD_FRACTION` dead vectors the index
is rebuilt from the catalog (cached embeddings) off to the side and swapped in.
"""

from __future__ import annotations

import sys
import threading
import time
from datetime import datetime
from typing import Any

import faiss
import numpy as np
from sqlalchemy.orm import Session

from kefu.contracts import SearchRequest, SearchResponse
from kefu.db import get_engine
from kefu.settings import Settings

from . import vectors as V
from .catalog import catalog_signature, count_updated_since, index_rows
from .embed import Embedder, Embeddings
from .index_store import IndexStore
from .indexer import Indexer, Row
from .rwlock import RWLock
from .search import Searcher
from .snapshot import Snapshot

# HNSW tombstones past this share of the index trigger a rebuild: dead vectors cost memory and
# widen every unfiltered search by ntotal/alive, and a 1M rebuild takes minutes, so not sooner.
TOMBSTONE_REBUILD_FRACTION = 0.2


class RetrievalEngine:
    """Owns the live snapshot for one data dir + database."""

    def __init__(self, settings: Settings, *, verbose: bool = True, approx_threshold: int | None = None,
                 query_encoder: str | None = None, approx_index: str | None = None) -> None:
        self.settings = settings
        self.sql_url = settings.sql_url
        self.engine = get_engine(self.sql_url)
        self.dir = settings.index_dir
        self.verbose = verbose
        self.approx_threshold = approx_threshold or settings.approx_threshold or V.APPROX_THRESHOLD
        self.approx_index = approx_index or settings.approx_index or "hnsw"
        if self.approx_index not in V.APPROX_KINDS:
            raise ValueError(f"approx_index must be one of {', '.join(V.APPROX_KINDS)}, not {self.approx_index!r}")
        self.lock = RWLock()
        self.store = IndexStore(self.dir, self.lock, self.log)
        self.embeddings = Embeddings(settings.models_dir, query_encoder or settings.retrieval_query_encoder or "fp32",
                                     self.dir / "embcache.sqlite", verbose=verbose)
        self.indexer = Indexer(self.embeddings, self.lock, self._build_index)
        self.searcher = Searcher(self.embeddings, self.lock, self.engine)
        self._write = threading.Lock()  # one sync/upsert at a time in this process
        self.snap: Snapshot | None = None
        self._rebuild: threading.Thread | None = None  # background rebuild after too many tombstones
        self.last_sync: dict[str, Any] = {}
        # One query is a single small scan; OpenMP fan-out only adds wake-up latency (and spins
        # on a busy machine). Bulk IVF builds raise it again (vectors.build_ivf).
        faiss.omp_set_num_threads(1)

    # ------------------------------------------------------------------ plumbing
    @property
    def embedder(self) -> Embedder:
        """Loaded on first use: CLI catalog commands never need the model."""
        return self.embeddings.model

    def _kind_for(self, n: int) -> str:
        return "flat" if n < self.approx_threshold else self.approx_index

    def _build_index(self, vecs: np.ndarray, ids: np.ndarray) -> tuple[Any, V.BuildInfo]:
        """A fresh FAISS index by the settings now: exact below the threshold, else approximate."""
        return V.build_index(vecs, ids, approx_threshold=self.approx_threshold, approx_index=self.approx_index,
                             verbose=self.verbose)

    def log(self, msg: str) -> None:
        if self.verbose:
            print(f"[retrieval] {msg}", file=sys.stderr, flush=True)

    # ------------------------------------------------------------------ load / save
    def current_version(self) -> int:
        return self.store.current_version()

    def load(self) -> bool:
        """Load the saved index (vectors + id map); the sync that follows fills in the rest."""
        snap = self.store.load()
        if snap is not None:
            self.snap = snap
        return snap is not None

    def save(self) -> int:
        """Write the live snapshot as a new version and point CURRENT at it."""
        assert self.snap is not None
        return self.store.save(self.snap)

    # ------------------------------------------------------------------ sync with the catalog
    def signature(self) -> tuple[int, str]:
        with Session(self.engine) as s:
            return catalog_signature(s)

    def _publish(self, products: list[Row], **how: Any) -> dict[str, Any]:
        """Fold products into the live snapshot and swap the result in for searches."""
        self.snap, stats = self.indexer.apply(self.snap, products, **how)
        return stats

    def sync(self, *, full: bool = False, save: bool = True) -> dict[str, Any]:
        """Bring the index in step with the whole catalog; only changed texts are embedded.

        `full` rebuilds the FAISS index from scratch (flat or approximate by size) instead of
        changing the live one in place, as does an HNSW index left with too many tombstones;
        either way the swap is atomic for searches.
        """
        with self._write:
            t0 = time.perf_counter()
            if self.snap is None:
                self.load()
            count, watermark = self.signature()
            products = index_rows(self.engine)
            if self.snap is not None and self.snap.info.kind != self._kind_for(len(products)):
                full = True  # crossed the exact/approximate size line, or approx_index changed: rebuild
            stats = self._publish(products, full=full, complete=True)
            assert self.snap is not None  # _publish always leaves a live snapshot
            if not full and self._too_many_tombstones():
                self.log(f"{self.snap.tombstones} tombstones of {self.snap.index.ntotal} vectors: rebuilding")
                self._publish(products, full=True, complete=True)
                full = stats["rebuilt"] = True
            self.snap.watermark, self.snap.catalog_count = watermark, count
            if save and (stats["changed"] or stats["removed"] or full or not self.current_version()
                         or self.snap.generation):
                self.save()
            stats.update(version=self.snap.label, size=len(self.snap.docs), seconds=round(time.perf_counter() - t0, 2),
                         index_kind=self.snap.info.kind, tombstones=self.snap.tombstones)
            self.last_sync = stats
            self.log(f"index {stats['version']}: {stats['size']} products ({stats['added']} added, "
                     f"{stats['updated']} updated, {stats['removed']} removed, {stats['embedded']} embedded) "
                     f"in {stats['seconds']}s")
            return stats

    def apply_ids(self, upserted: list[str], deleted: list[str]) -> dict[str, Any]:
        """After an API write: re-read just those products from SQL and update the live index."""
        if self.snap is None or self.snap.tokens_missing:
            return self.sync()
        with self._write:
            products = index_rows(self.engine, upserted) if upserted else []
            stats = self._publish(products, removed_ids=deleted)
            count, watermark = self.signature()
            if stats["changed"] or stats["removed"]:
                self.snap.generation += 1
            # Only claim the catalog watermark if nothing else changed meanwhile.
            self.snap.catalog_count = count
            self.snap.watermark = max(self.snap.watermark, watermark) if self.snap.watermark else watermark
            stats.update(version=self.snap.label, size=len(self.snap.docs), tombstones=self.snap.tombstones)
            if self._start_rebuild():
                stats["rebuild"] = "started"
            return stats

    # ------------------------------------------------------------------ tombstone rebuilds
    def _too_many_tombstones(self) -> bool:
        snap = self.snap
        return (snap is not None and snap.info.kind == "hnsw"
                and snap.tombstones > TOMBSTONE_REBUILD_FRACTION * max(1, snap.index.ntotal))

    def _start_rebuild(self) -> bool:
        """Off the request: a rebuild at 1M takes minutes. Searches and further writes go on
        against the live index; the writes are replayed onto the new one at the swap."""
        if not self._too_many_tombstones() or (self._rebuild and self._rebuild.is_alive()):
            return False
        assert self.snap is not None  # there are tombstones only in a live snapshot
        self.log(f"{self.snap.tombstones} tombstones of {self.snap.index.ntotal} vectors: rebuilding")
        self._rebuild = threading.Thread(target=self._rebuild_quietly, name="retrieval-rebuild", daemon=True)
        self._rebuild.start()
        return True

    def rebuild_aside(self) -> dict[str, Any]:
        """A full rebuild that does not hold the write lock while it builds (minutes at 1M): API
        writes go on against the live index meanwhile and are replayed onto the new one, under
        the lock, just before the swap."""
        t0 = time.perf_counter()
        with self._write:
            base = self.snap
            products = index_rows(self.engine)
        fresh, _ = self.indexer.apply(base, products, full=True, complete=True)
        with self._write:
            cur = self.snap
            assert cur is not None and base is not None
            removed = [pid for pid in base.docs if pid not in cur.docs]
            changed = [pid for pid, d in cur.docs.items() if base.docs.get(pid) is not d]
            fresh.version, fresh.generation = cur.version, cur.generation
            fresh.watermark, fresh.catalog_count = cur.watermark, cur.catalog_count
            replay = index_rows(self.engine, changed) if changed else []
            self.snap, _ = self.indexer.apply(fresh, replay, removed_ids=removed)
            self.save()
            stats = {"version": self.snap.label, "size": len(self.snap.docs), "replayed": len(changed) + len(removed),
                     "seconds": round(time.perf_counter() - t0, 2), "tombstones": self.snap.tombstones}
            self.log(f"rebuilt aside: {stats}")
            return stats

    def _rebuild_quietly(self) -> None:
        try:
            self.rebuild_aside()
        except Exception as exc:  # the live index keeps serving; the next write or sync retries
            self.log(f"tombstone rebuild failed: {type(exc).__name__}: {exc}")

    def wait_rebuild(self, timeout: float | None = None) -> None:
        """Block until a background tombstone rebuild (if any) has swapped in."""
        if self._rebuild is not None:
            self._rebuild.join(timeout)

    # ------------------------------------------------------------------ search
    def ensure_ready(self) -> Snapshot:
        if self.snap is None or self.snap.tokens_missing:
            self.sync()
        assert self.snap is not None
        return self.snap

    def search(self, req: SearchRequest, *, hydrate: bool = True, mode: str = "hybrid") -> SearchResponse:
        """Search the live snapshot (see search.Searcher)."""
        snap = self.snap
        if snap is None:
            raise RuntimeError("index not loaded")
        return self.searcher.search(snap, req, hydrate=hydrate, mode=mode)

    # ------------------------------------------------------------------ status
    def _lag(self, snap: Snapshot, count: int, watermark: str) -> tuple[int, float]:
        """(products changed in SQL since the indexed watermark, seconds behind)."""
        if not (snap.watermark and watermark > snap.watermark):
            return 0, 0.0
        try:
            wm = datetime.fromisoformat(snap.watermark)
            lag_s = (datetime.fromisoformat(watermark) - wm).total_seconds()
            return count_updated_since(self.engine, wm), lag_s
        except ValueError:
            return count, 0.0

    def status(self) -> dict[str, Any]:
        snap = self.snap
        count, watermark = self.signature()
        out: dict[str, Any] = {"catalog_count": count, "catalog_updated_at": watermark}
        if snap is None:
            out.update(index_version=None, index_size=0, lag_products=count)
            return out
        pending, lag_s = self._lag(snap, count, watermark)
        size_diff = count - len(snap.docs)  # > 0: products not indexed; < 0: deleted, still indexed
        out.update(index_version=snap.label, index_kind=snap.info.kind, index_size=len(snap.docs),
                   index_tombstones=snap.tombstones, index_ef_search=snap.info.ef_search,
                   index_recall_at_10=snap.info.recall_at_10, indexed_watermark=snap.watermark,
                   lag_products=max(pending, abs(size_diff)), lag_updated=pending, lag_size=size_diff,
                   lag_seconds=lag_s, embedder=self.embeddings.backend)
        return out
