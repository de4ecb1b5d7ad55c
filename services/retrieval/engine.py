"""The retrieval engine: catalog (SQL) -> embeddings -> FAISS + BM25 -> filtered hybrid search.

One `Snapshot` is what searches read: the FAISS index, the BM25 index and the per-product filter
columns, all keyed by a dense integer vector id. Syncing with the catalog builds a new snapshot
next to the live one and swaps the reference (atomic in Python), so searches never see half an
update; the FAISS index itself is changed in place only under a write lock (add/remove by id).

On disk (`<data_dir>/index/`): `CURRENT` names the live version directory `vNNNNNN/` holding
`vectors.faiss` and `manifest.json` (product id -> [vector id, text hash], build facts). A new
version is written to a temporary directory and renamed, then `CURRENT` is replaced atomically.

An HNSW index (the default past the approximate threshold) cannot remove ids, so there a
removed or re-embedded product leaves a tombstone: its vector stays in the graph under a vid
no document points to (`alive` is False), and a re-embedded product gets a new vid appended, so
`next_vid == index.ntotal` always. Past `TOMBSTONE_REBUILD_FRACTION` dead vectors the index is
rebuilt from the catalog (cached embeddings) off to the side and swapped in.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import faiss
import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.contracts import ProductHit, SearchFilters, SearchRequest, SearchResponse
from kefu.db import Product, get_engine
from kefu.settings import Settings

from . import vectors as V
from .catalog import FIELDS, catalog_signature
from .embed import DIM, MODEL_ID, EmbeddingCache, embed_with_cache, get_embedder
from .lexical import LexicalIndex
from .query import ParsedQuery, Vocabulary, category_parts, merge_filters, parse_query, phrase_key
from .text import embed_text, lexical_tokens, text_hash, tokenize

# hybrid = BM25 + dense. The category scorer is opt-in: as an equal RRF vote it cost 0.06 nDCG@10
# on WANDS-5k (related categories outvote the text), and weights must not be fitted to that set.
MODES = {"hybrid": ("bm25", "dense"), "hybrid+category": ("bm25", "dense", "category"), "bm25": ("bm25",),
         "dense": ("dense",)}
RRF_K = 60  # the constant from Cormack et al. (2009); not tuned on any benchmark
CANDIDATES = 200  # per scorer, before fusion
MAX_QUERY_TOKENS = 64
# HNSW tombstones past this share of the index trigger a rebuild: dead vectors cost memory and
# widen every unfiltered search by ntotal/alive, and a 1M rebuild takes minutes, so not sooner.
TOMBSTONE_REBUILD_FRACTION = 0.2


class RWLock:
    """Many searches at once, or one writer changing the FAISS index in place."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._readers:
                self._cond.wait()
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass
class Doc:
    """What the engine keeps per indexed product (display fields come from SQL at query time)."""

    pid: str
    vid: int
    hash: str
    tokens: list[str]
    price: float | None
    stock: int
    category: str
    brand: str
    category_zh: str = ""


@dataclass
class Snapshot:
    version: int
    generation: int  # live changes applied since `version` was saved
    index: Any  # faiss.Index
    info: V.BuildInfo
    docs: dict[str, Doc]
    next_vid: int
    watermark: str  # catalog max(updated_at) this snapshot reflects
    catalog_count: int
    built_at: float
    # derived, for search
    vid_pid: list[str | None] = field(default_factory=list)
    alive: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    price: np.ndarray = field(default_factory=lambda: np.zeros(0))
    stock: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cat_vid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # (vid, code) pairs: a
    cat_code: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # product may have several
    brand: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    cat_codes: dict[str, int] = field(default_factory=dict)
    brand_codes: dict[str, int] = field(default_factory=dict)
    cat_family: dict[str, list[int]] = field(default_factory=dict)
    # products carrying each (category name as written, canonical name) and each brand name:
    # what the vocabulary is built from
    cat_names_n: Counter = field(default_factory=Counter)
    brand_names_n: Counter = field(default_factory=Counter)
    # BM25 over the same vids; changed in place (under the engine's write lock) by API writes
    lexical: LexicalIndex | None = None
    vocab: Vocabulary | None = None
    cat_names: list[str] = field(default_factory=list)
    cat_vecs: np.ndarray = field(default_factory=lambda: np.zeros((0, DIM), np.float32))

    @property
    def tombstones(self) -> int:
        """Dead vectors still in the index (HNSW only; flat and IVF remove ids in place)."""
        return int(self.index.ntotal) - len(self.docs)

    @property
    def label(self) -> str:
        return f"v{self.version}" + (f"+{self.generation}" if self.generation else "")

    def in_place(self, docs: dict[str, Doc], next_vid: int, lexical: LexicalIndex | None) -> Snapshot:
        """The next snapshot over this one's (just changed) index: same version, new documents."""
        return Snapshot(version=self.version, generation=self.generation, index=self.index, info=self.info,
                        docs=docs, next_vid=next_vid, watermark=self.watermark,
                        catalog_count=self.catalog_count, built_at=time.time(), lexical=lexical)

    @staticmethod
    def _names(d: Doc) -> tuple[list[str], list[tuple[str, str]]]:
        """A product's category parts and its (written, canonical) category names."""
        parts = category_parts(d.category)
        cats = [(part, part) for part in parts]
        if d.category_zh and parts:
            cats.append((d.category_zh, parts[0]))
        return parts, cats

    def _set(self, d: Doc, pair_vid: list[int], pair_code: list[int]) -> None:
        self.vid_pid[d.vid] = d.pid
        self.alive[d.vid] = True
        self.price[d.vid] = np.nan if d.price is None else d.price
        self.stock[d.vid] = d.stock
        parts, cats = self._names(d)
        for part in parts:
            pair_vid.append(d.vid)
            pair_code.append(self.cat_codes.setdefault(part.lower(), len(self.cat_codes)))
        self.cat_names_n.update(cats)
        if d.brand:
            self.brand[d.vid] = self.brand_codes.setdefault(d.brand.lower(), len(self.brand_codes))
            self.brand_names_n[d.brand] += 1

    def _vocabulary(self) -> None:
        cats: dict[str, str] = {}
        for (name, canonical), n in self.cat_names_n.items():
            if n > 0:
                cats.setdefault(name, canonical)
        self.vocab = Vocabulary(cats, {name: name for name, n in self.brand_names_n.items() if n > 0})
        # A category filter also takes its kinds: "Beds" matches "Kids Beds" (same head noun).
        keys = {name: phrase_key(name) for name in self.cat_codes}
        self.cat_family = {name: [self.cat_codes[o] for o, ok in keys.items()
                                  if kk and ok[-len(kk):] == kk] for name, kk in keys.items()}

    def derive(self) -> None:
        """Filter columns, vocabulary and (if not carried over) BM25, from all documents."""
        n = self.next_vid
        self.vid_pid = [None] * n
        self.alive = np.zeros(n, bool)
        self.price = np.full(n, np.nan)
        self.stock = np.zeros(n, np.int64)
        self.brand = np.full(n, -1, np.int32)
        self.cat_names_n, self.brand_names_n = Counter(), Counter()
        pair_vid: list[int] = []
        pair_code: list[int] = []
        for d in self.docs.values():
            self._set(d, pair_vid, pair_code)
        self.cat_vid = np.array(pair_vid, dtype=np.int64)
        self.cat_code = np.array(pair_code, dtype=np.int32)
        self._vocabulary()
        if self.lexical is None:  # a fresh snapshot; an in-place change brings its updated index
            self.lexical = LexicalIndex.build(sorted((d.vid, d.tokens) for d in self.docs.values()))

    def derive_from(self, prev: Snapshot, gone: list[Doc], new: list[Doc]) -> None:
        """`prev`'s columns with the `gone` documents cleared and the `new` ones set: an API write
        costs its own products, not a pass over the catalog (~0.1 s at 51k, seconds at 1M)."""
        grow = self.next_vid - len(prev.alive)

        def ext(a: np.ndarray, fill: Any) -> np.ndarray:
            return np.concatenate([a, np.full(grow, fill, a.dtype)]) if grow > 0 else a.copy()

        self.alive, self.price = ext(prev.alive, False), ext(prev.price, np.nan)
        self.stock, self.brand = ext(prev.stock, 0), ext(prev.brand, -1)
        self.vid_pid = prev.vid_pid + [None] * max(grow, 0)
        self.cat_codes, self.brand_codes = dict(prev.cat_codes), dict(prev.brand_codes)
        self.cat_names_n, self.brand_names_n = Counter(prev.cat_names_n), Counter(prev.brand_names_n)
        names_before = ({k for k, v in self.cat_names_n.items() if v > 0},
                        {k for k, v in self.brand_names_n.items() if v > 0}, len(self.cat_codes))
        for d in gone:
            self.vid_pid[d.vid] = None
            self.alive[d.vid], self.price[d.vid], self.stock[d.vid], self.brand[d.vid] = False, np.nan, 0, -1
            self.cat_names_n.subtract(self._names(d)[1])
            if d.brand:
                self.brand_names_n[d.brand] -= 1
        keep = ~np.isin(prev.cat_vid, np.fromiter((d.vid for d in gone), np.int64, len(gone)))
        pair_vid: list[int] = []
        pair_code: list[int] = []
        for d in new:
            self._set(d, pair_vid, pair_code)
        self.cat_vid = np.concatenate([prev.cat_vid[keep], np.array(pair_vid, dtype=np.int64)])
        self.cat_code = np.concatenate([prev.cat_code[keep], np.array(pair_code, dtype=np.int32)])
        names_after = ({k for k, v in self.cat_names_n.items() if v > 0},
                       {k for k, v in self.brand_names_n.items() if v > 0}, len(self.cat_codes))
        if names_after == names_before:
            self.vocab, self.cat_family = prev.vocab, prev.cat_family
        else:
            self._vocabulary()

    def mask(self, f: SearchFilters) -> np.ndarray | None:
        if all(v is None for v in f.model_dump().values()):
            return None
        m = self.alive.copy()
        if f.price_min is not None:
            m &= np.nan_to_num(self.price, nan=-np.inf) >= f.price_min
        if f.price_max is not None:
            m &= np.nan_to_num(self.price, nan=np.inf) <= f.price_max
        if f.in_stock:
            m &= self.stock > 0
        elif f.in_stock is False:
            m &= self.stock <= 0
        if f.category:
            codes = self.cat_family.get(f.category.lower()) or [self.cat_codes.get(f.category.lower(), -2)]
            in_cat = np.zeros(len(m), bool)
            in_cat[self.cat_vid[np.isin(self.cat_code, codes)]] = True
            m &= in_cat
        if f.brand:
            m &= self.brand == self.brand_codes.get(f.brand.lower(), -2)
        return m


def _doc_from(p: dict[str, Any], vid: int, h: str, tokens: list[str]) -> Doc:
    return Doc(pid=p["id"], vid=vid, hash=h, tokens=tokens, price=p.get("price"), stock=int(p.get("stock") or 0),
               category=p.get("category") or "", brand=p.get("brand") or "",
               category_zh=str((p.get("attributes") or {}).get("category_zh") or ""))


class RetrievalEngine:
    """Owns the live snapshot for one data dir + database."""

    def __init__(self, settings: Settings, *, verbose: bool = True, approx_threshold: int | None = None,
                 query_encoder: str | None = None, approx_index: str | None = None) -> None:
        self.settings = settings
        self.sql_url = settings.sql_url
        self.engine = get_engine(self.sql_url)
        self.dir = settings.index_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.verbose = verbose
        self.approx_threshold = approx_threshold or settings.approx_threshold or V.APPROX_THRESHOLD
        self.approx_index = approx_index or settings.approx_index or "hnsw"
        if self.approx_index not in V.APPROX_KINDS:
            raise ValueError(f"approx_index must be one of {', '.join(V.APPROX_KINDS)}, not {self.approx_index!r}")
        # "int8": quantised query encoder (~4x faster, -0.005 nDCG@10 on WANDS-5k); documents stay fp32.
        self.query_encoder = query_encoder or settings.retrieval_query_encoder or "fp32"
        self._embedder = None
        self.cache = EmbeddingCache(self.dir / "embcache.sqlite")
        self.lock = RWLock()
        self._write = threading.Lock()  # one sync/upsert at a time in this process
        self.snap: Snapshot | None = None
        self._rebuild: threading.Thread | None = None  # background rebuild after too many tombstones
        self.last_sync: dict[str, Any] = {}
        # One query is a single small scan; OpenMP fan-out only adds wake-up latency (and spins
        # on a busy machine). Bulk IVF builds raise it again (vectors.build_ivf).
        faiss.omp_set_num_threads(1)

    # ------------------------------------------------------------------ plumbing
    @property
    def embedder(self):  # noqa: ANN201 - lazily loaded: CLI catalog commands never need the model
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.models_dir, self.query_encoder)
        return self._embedder

    def log(self, msg: str) -> None:
        if self.verbose:
            print(f"[retrieval] {msg}", file=sys.stderr, flush=True)

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        with open(self.dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def current_version(self) -> int:
        try:
            return int((self.dir / "CURRENT").read_text().strip().lstrip("v"))
        except (FileNotFoundError, ValueError):
            return 0

    # ------------------------------------------------------------------ load / save
    def load(self) -> bool:
        """Load the saved index (vectors + id map); the sync that follows fills in the rest."""
        ver = self.current_version()
        vdir = self.dir / f"v{ver:06d}"
        if not ver or not (vdir / "manifest.json").exists():
            return False
        man = json.loads((vdir / "manifest.json").read_text())
        if man.get("model") != MODEL_ID or man.get("dim") != DIM:
            self.log("saved index was built with another model; rebuilding")
            return False
        index = faiss.read_index(str(vdir / "vectors.faiss"))
        info = V.BuildInfo(**man["build"])
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = info.nprobe
        elif isinstance(index, faiss.IndexHNSW):
            if index.ntotal != man["next_vid"]:  # vid == HNSW position; anything else is unusable
                self.log("saved HNSW index does not match its manifest; rebuilding")
                return False
            index.hnsw.efSearch = info.ef_search or index.hnsw.efSearch  # not kept in the .faiss file
        docs = {pid: Doc(pid=pid, vid=v[0], hash=v[1], tokens=[], price=None, stock=0, category="", brand="")
                for pid, v in man["items"].items()}
        self.snap = Snapshot(version=ver, generation=0, index=index, info=info, docs=docs,
                             next_vid=man["next_vid"], watermark="", catalog_count=0, built_at=man["built_at"])
        self.snap.tokens_missing = True  # type: ignore[attr-defined]
        return True

    def save(self) -> int:
        """Write the live snapshot as a new version and point CURRENT at it."""
        snap = self.snap
        assert snap is not None
        with self._file_lock():
            ver = max(self.current_version(), snap.version) + 1
            tmp = self.dir / f".v{ver:06d}.tmp{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            with self.lock.read():
                faiss.write_index(snap.index, str(tmp / "vectors.faiss"))
            man = {"version": ver, "model": MODEL_ID, "dim": DIM, "built_at": time.time(),
                   "next_vid": snap.next_vid, "count": len(snap.docs), "watermark": snap.watermark,
                   "build": snap.info.__dict__,
                   "items": {d.pid: [d.vid, d.hash] for d in snap.docs.values()}}
            (tmp / "manifest.json").write_text(json.dumps(man))
            final = self.dir / f"v{ver:06d}"
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            cur_tmp = self.dir / f".CURRENT.tmp{os.getpid()}"
            cur_tmp.write_text(f"v{ver:06d}\n")
            os.replace(cur_tmp, self.dir / "CURRENT")
            for old in sorted(self.dir.glob("v[0-9]*"))[:-2]:  # keep the previous one for readers mid-load
                shutil.rmtree(old, ignore_errors=True)
        snap.version, snap.generation = ver, 0
        return ver

    # ------------------------------------------------------------------ sync with the catalog
    def _load_products(self, ids: list[str] | None = None) -> list[dict[str, Any]]:
        """Core rows, not ORM objects: a third of the cost at 50k products."""
        t = Product.__table__
        cols = [t.c[name] for name in FIELDS]
        out: list[dict[str, Any]] = []
        with self.engine.connect() as c:
            chunks = [ids[i:i + 1000] for i in range(0, len(ids), 1000)] if ids is not None else [None]
            for chunk in chunks:
                q = select(*cols) if chunk is None else select(*cols).where(t.c.id.in_(chunk))
                out.extend({**r._mapping, "attributes": r.attributes or {}} for r in c.execute(q))
        return out

    def signature(self) -> tuple[int, str]:
        with Session(self.engine) as s:
            return catalog_signature(s)

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
            products = self._load_products()
            if self.snap is not None and self.snap.info.kind != self._kind_for(len(products)):
                full = True  # crossed the exact/approximate size line, or approx_index changed: rebuild
            stats = self._apply(products, full=full, complete=True)
            if not full and self._too_many_tombstones():
                self.log(f"{self.snap.tombstones} tombstones of {self.snap.index.ntotal} vectors: rebuilding")
                self._apply(products, full=True, complete=True)
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
        if self.snap is None or getattr(self.snap, "tokens_missing", False):
            return self.sync()
        with self._write:
            products = self._load_products(upserted) if upserted else []
            stats = self._apply(products, removed_ids=deleted)
            count, watermark = self.signature()
            if stats["changed"] or stats["removed"]:
                self.snap.generation += 1
            # Only claim the catalog watermark if nothing else changed meanwhile.
            self.snap.catalog_count = count
            self.snap.watermark = max(self.snap.watermark, watermark) if self.snap.watermark else watermark
            stats.update(version=self.snap.label, size=len(self.snap.docs), tombstones=self.snap.tombstones)
            if self._too_many_tombstones() and not (self._rebuild and self._rebuild.is_alive()):
                # Off the request: a rebuild at 1M takes minutes. Searches and further writes go
                # on against the live index; the writes are replayed onto the new one at the swap.
                self.log(f"{self.snap.tombstones} tombstones of {self.snap.index.ntotal} vectors: rebuilding")
                self._rebuild = threading.Thread(target=self._rebuild_quietly, name="retrieval-rebuild", daemon=True)
                self._rebuild.start()
                stats["rebuild"] = "started"
            return stats

    def rebuild_aside(self) -> dict[str, Any]:
        """A full rebuild that does not hold the write lock while it builds (minutes at 1M): API
        writes go on against the live index meanwhile and are replayed onto the new one, under
        the lock, just before the swap."""
        t0 = time.perf_counter()
        with self._write:
            base = self.snap
            products = self._load_products()
        fresh = self._apply(products, full=True, complete=True, base=base, publish=False)["snapshot"]
        with self._write:
            cur = self.snap
            assert cur is not None and base is not None
            removed = [pid for pid in base.docs if pid not in cur.docs]
            changed = [pid for pid, d in cur.docs.items() if base.docs.get(pid) is not d]
            fresh.version, fresh.generation = cur.version, cur.generation
            fresh.watermark, fresh.catalog_count = cur.watermark, cur.catalog_count
            self._apply(self._load_products(changed) if changed else [], removed_ids=removed, base=fresh)
            self.save()
            stats = {"version": self.snap.label, "size": len(self.snap.docs), "replayed": len(changed) + len(removed),
                     "seconds": round(time.perf_counter() - t0, 2), "tombstones": self.snap.tombstones}
            self.log(f"rebuilt aside: {stats}")
            return stats

    def _rebuild_quietly(self) -> None:
        try:
            self.rebuild_aside()
        except Exception as exc:  # noqa: BLE001 - the live index keeps serving; the next write or sync retries
            self.log(f"tombstone rebuild failed: {type(exc).__name__}: {exc}")

    def wait_rebuild(self, timeout: float | None = None) -> None:
        """Block until a background tombstone rebuild (if any) has swapped in."""
        if self._rebuild is not None:
            self._rebuild.join(timeout)

    def _kind_for(self, n: int) -> str:
        return "flat" if n < self.approx_threshold else self.approx_index

    def _too_many_tombstones(self) -> bool:
        snap = self.snap
        return (snap is not None and snap.info.kind == "hnsw"
                and snap.tombstones > TOMBSTONE_REBUILD_FRACTION * max(1, snap.index.ntotal))

    def _apply(self, products: list[dict[str, Any]], *, removed_ids: list[str] | None = None,
               full: bool = False, complete: bool = False, base: Snapshot | None = None,
               publish: bool = True) -> dict[str, Any]:
        """Fold products (and removals) into `base` (the live snapshot by default); with `publish`,
        swap the result in for searches, else return it as stats["snapshot"] (a rebuild aside)."""
        old = base if base is not None else self.snap
        old_docs = old.docs if old is not None else {}
        need_tokens = bool(old is not None and getattr(old, "tokens_missing", False))
        texts = {p["id"]: embed_text(p) for p in products}
        hashes = {pid: text_hash(t, MODEL_ID) for pid, t in texts.items()}
        docs = dict(old_docs)
        next_vid = old.next_vid if old is not None else 0
        removed = set(removed_ids or [])
        if complete:
            removed |= set(old_docs) - set(texts)
        added, updated, meta_only = [], [], []
        for p in products:
            pid = p["id"]
            prev = old_docs.get(pid)
            if prev is None:
                added.append(pid)
            elif prev.hash != hashes[pid]:
                updated.append(pid)
            else:
                meta_only.append(pid)
        changed = added + updated
        # HNSW in place: append-only. An updated text gets a new vid (the old one is a tombstone).
        append_only = old is not None and not full and old.info.kind == "hnsw"
        fresh_vid = set(updated) if append_only else set()
        if full:
            changed = [p["id"] for p in products]
        vec_pids = changed
        vecs, n_embedded = embed_with_cache(self.embedder, self.cache, [texts[p] for p in vec_pids],
                                            [hashes[p] for p in vec_pids], show_progress=self.verbose) \
            if vec_pids else (np.zeros((0, DIM), np.float32), 0)
        by_id = {p["id"]: p for p in products}
        for pid in removed:
            docs.pop(pid, None)
        rewritten = set(changed) | set(meta_only) if not need_tokens else set(by_id)
        for pid in rewritten:
            p = by_id[pid]
            prev = old_docs.get(pid)
            # flat/IVF: an update keeps its id (remove, then add); HNSW: it gets a new one
            vid = prev.vid if prev is not None and pid not in fresh_vid else None
            if vid is None:
                vid = next_vid
                next_vid += 1
            toks = prev.tokens if (prev is not None and prev.hash == hashes[pid] and prev.tokens) \
                else lexical_tokens(p)
            docs[pid] = _doc_from(p, vid, hashes[pid], toks)
        if full or old is None:
            # Fresh index off to the side; vids compacted so the id space stays dense.
            order = sorted(docs.values(), key=lambda d: d.pid)
            vec_of = dict(zip(vec_pids, vecs, strict=True))
            for i, d in enumerate(order):
                d.vid = i
            next_vid = len(order)
            allv = np.stack([vec_of[d.pid] for d in order]) if order else np.zeros((0, DIM), np.float32)
            index, info = V.build_index(allv, np.arange(len(order), dtype=np.int64),
                                        approx_threshold=self.approx_threshold, approx_index=self.approx_index,
                                        verbose=self.verbose)
            version = old.version if old else 0
            snap = Snapshot(version=version, generation=0, index=index, info=info, docs=docs,
                            next_vid=next_vid, watermark="", catalog_count=0, built_at=time.time())
        elif append_only:
            new_docs = sorted((docs[p] for p in changed), key=lambda d: d.vid)
            vec_of = dict(zip(vec_pids, vecs, strict=True))
            with self.lock.write():  # appended in vid order: vid == HNSW position
                if [d.vid for d in new_docs] != list(range(old.index.ntotal, next_vid)):
                    raise RuntimeError(f"HNSW vids out of step: ntotal {old.index.ntotal}, next_vid {next_vid}")
                if new_docs:
                    old.index.add(np.ascontiguousarray(np.stack([vec_of[d.pid] for d in new_docs])))
                lexical = self._relex(old, docs, removed, rewritten, need_tokens)
            snap = old.in_place(docs, next_vid, lexical)
        else:
            stale_vids = [old_docs[p].vid for p in list(removed) + updated if p in old_docs]
            new_docs = [docs[p] for p in changed]
            with self.lock.write():  # in place: searches wait for the few ms this takes
                if stale_vids:
                    old.index.remove_ids(np.array(stale_vids, dtype=np.int64))
                if new_docs:
                    old.index.add_with_ids(np.ascontiguousarray(vecs),
                                           np.array([d.vid for d in new_docs], dtype=np.int64))
                lexical = self._relex(old, docs, removed, rewritten, need_tokens)
            snap = old.in_place(docs, next_vid, lexical)
        if snap.lexical is not None and old is not None and snap.index is old.index and len(old.alive):
            # in place (the live index was changed): fold just the written products into the columns
            gone = [old_docs[p] for p in removed | rewritten if p in old_docs]
            snap.derive_from(old, gone, [docs[p] for p in rewritten])
        else:
            snap.derive()
        if old is not None and getattr(old, "cat_names", None) == sorted(snap.cat_codes, key=snap.cat_codes.get):
            snap.cat_names, snap.cat_vecs = old.cat_names, old.cat_vecs
        stats: dict[str, Any] = {"added": len(added), "updated": len(updated),
                                 "removed": len(removed & set(old_docs)), "embedded": n_embedded,
                                 "changed": len(changed), "meta_refreshed": len(meta_only)}
        if publish:
            self.snap = snap  # the swap
        else:
            stats["snapshot"] = snap
        return stats

    @staticmethod
    def _relex(old: Snapshot, docs: dict[str, Doc], removed: set[str], rewritten: set[str],
               need_tokens: bool) -> LexicalIndex | None:
        """Carry the live BM25 index over to the new snapshot, changed only where documents were
        (a write costs its own terms, not a rebuild of the catalog). None = build afresh."""
        lex = old.lexical
        if lex is None or need_tokens:
            return None
        for pid in removed:
            if pid in old.docs:
                lex.remove(old.docs[pid].vid)
        for pid in rewritten:
            d, prev = docs[pid], old.docs.get(pid)
            if prev is None or prev.vid != d.vid or prev.tokens is not d.tokens:
                if prev is not None and prev.vid != d.vid:
                    lex.remove(prev.vid)
                lex.add(d.vid, d.tokens)
        return lex

    def _category_vectors(self, snap: Snapshot) -> None:
        """Embeddings of the category names, for the (opt-in) query-to-product-type scorer."""
        names = sorted(snap.cat_codes, key=snap.cat_codes.get)
        if snap.cat_names == names:
            return
        vecs, _ = embed_with_cache(self.embedder, self.cache, names, [text_hash(n, MODEL_ID) for n in names],
                                   label="category names", show_progress=self.verbose) \
            if names else (np.zeros((0, DIM), np.float32), 0)
        snap.cat_names, snap.cat_vecs = names, vecs

    # ------------------------------------------------------------------ search
    def ensure_ready(self) -> Snapshot:
        if self.snap is None or getattr(self.snap, "tokens_missing", False):
            self.sync()
        assert self.snap is not None
        return self.snap

    def search(self, req: SearchRequest, *, hydrate: bool = True, mode: str = "hybrid") -> SearchResponse:
        t0 = time.perf_counter()
        snap = self.snap
        if snap is None:
            raise RuntimeError("index not loaded")
        pq = parse_query(req.query, snap.vocab) if req.parse_filters else ParsedQuery(req.query, SearchFilters())
        filters = merge_filters(req.filters, pq.filters)
        mask = snap.mask(filters)
        text = pq.text if pq.text.strip() else req.query
        ranked: dict[str, list[tuple[int, float]]] = {}
        allowed = int(mask.sum()) if mask is not None else len(snap.docs)
        scorers = MODES.get(mode)
        if scorers is None:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        qv = None
        if allowed and snap.docs:
            if "dense" in scorers or "category" in scorers:
                qv = self.embedder.encode_query(text)
            if "dense" in scorers:
                with self.lock.read():
                    d, ids = V.search(snap.index, qv, CANDIDATES, mask, snap.info.nprobe,
                                      ef_search=snap.info.ef_search, alive=snap.alive if snap.tombstones else None)
                ranked["dense"] = [(int(i), float(s)) for i, s in zip(ids, d, strict=True)
                                   if i < len(snap.alive) and snap.alive[i]]
            if "bm25" in scorers and snap.lexical is not None:
                toks = list(dict.fromkeys(tokenize(text)))[:MAX_QUERY_TOKENS]
                with self.lock.read():  # API writes change the BM25 index in place
                    ranked["bm25"] = self._bm25(snap, toks, mask)
            if "category" in scorers and qv is not None:
                self._category_vectors(snap)
            if "category" in scorers and qv is not None and len(snap.cat_vecs):
                ranked["category"] = self._category(snap, qv, self._fuse(ranked))
        fused = self._fuse(ranked)
        hits_v = fused[: req.k]
        hits = self._hydrate(snap, hits_v, ranked) if hydrate else [
            ProductHit(id=snap.vid_pid[v], title="", score=s, scorers=sc) for v, s, sc in
            self._with_scorers(hits_v, ranked)]
        return SearchResponse(hits=hits, filters=filters, query=text, index_version=snap.label,
                              latency_ms=round((time.perf_counter() - t0) * 1000, 3))

    @staticmethod
    def _category(snap: Snapshot, qv: np.ndarray, candidates: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Re-rank the other scorers' candidates by how close the query is to each product's
        category name: "coffee table" prefers products filed as tables over table lamps that
        happen to share words. A third opinion for fusion, not a filter."""
        if not candidates:
            return []
        sim = snap.cat_vecs @ qv  # one cosine per category name
        best = np.full(len(snap.alive), -np.inf, dtype=np.float32)
        np.maximum.at(best, snap.cat_vid, sim[snap.cat_code])
        scored = [(v, float(best[v])) for v, _ in candidates if np.isfinite(best[v])]
        scored.sort(key=lambda t: -t[1])  # stable: equal categories keep the fused order
        return scored

    @staticmethod
    def _bm25(snap: Snapshot, toks: list[str], mask: np.ndarray | None) -> list[tuple[int, float]]:
        if not toks:
            return []
        scores = snap.lexical.scores(toks, len(snap.alive))
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(CANDIDATES, int((scores > 0).sum()))
        if n == 0:
            return []
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top]

    @staticmethod
    def _fuse(ranked: dict[str, list[tuple[int, float]]]) -> list[tuple[int, float]]:
        """Reciprocal-rank fusion: scale-free, so BM25's unbounded scores and cosines combine
        without weights fitted to any labels."""
        if len(ranked) == 1:
            return list(next(iter(ranked.values())))
        acc: dict[int, float] = {}
        for lst in ranked.values():
            for r, (vid, _) in enumerate(lst):
                acc[vid] = acc.get(vid, 0.0) + 1.0 / (RRF_K + r + 1)
        return sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))

    @staticmethod
    def _with_scorers(hits: list[tuple[int, float]], ranked: dict[str, list[tuple[int, float]]]
                      ) -> list[tuple[int, float, dict[str, float]]]:
        lookup = {name: dict(lst) for name, lst in ranked.items()}
        return [(v, s, {n: round(t[v], 6) for n, t in lookup.items() if v in t}) for v, s in hits]

    def _hydrate(self, snap: Snapshot, hits: list[tuple[int, float]],
                 ranked: dict[str, list[tuple[int, float]]]) -> list[ProductHit]:
        pids = [snap.vid_pid[v] for v, _ in hits]
        t = Product.__table__
        with self.engine.connect() as c:  # Core rows: a third of the ORM's cost per row
            rows = {r.id: r for r in c.execute(select(t).where(t.c.id.in_(pids)))} if pids else {}
        out = []
        for (_v, score, scorers), pid in zip(self._with_scorers(hits, ranked), pids, strict=True):
            p = rows.get(pid)
            if p is None:  # deleted in SQL, index not yet synced: never show a ghost
                continue
            out.append(ProductHit(
                id=p.id, title=p.title, price=p.price, currency=p.currency or "USD", category=p.category or "",
                brand=p.brand or "", stock=p.stock or 0, url=p.url or "", image_url=p.image_url or "",
                description=(p.description or "")[:500], attributes=dict(p.attributes or {}),
                score=round(score, 6), scorers=scorers))
        return out

    # ------------------------------------------------------------------ status
    def status(self) -> dict[str, Any]:
        snap = self.snap
        count, watermark = self.signature()
        out: dict[str, Any] = {"catalog_count": count, "catalog_updated_at": watermark}
        if snap is None:
            out.update(index_version=None, index_size=0, lag_products=count)
            return out
        pending = 0
        lag_s = 0.0
        if snap.watermark and watermark > snap.watermark:
            try:
                wm = datetime.fromisoformat(snap.watermark)
                lag_s = (datetime.fromisoformat(watermark) - wm).total_seconds()
                with Session(self.engine) as s:
                    pending = int(s.scalar(select(func.count()).select_from(Product)
                                           .where(Product.updated_at > wm)) or 0)
            except ValueError:
                pending = count
        size_diff = count - len(snap.docs)  # > 0: products not indexed; < 0: deleted, still indexed
        out.update(index_version=snap.label, index_kind=snap.info.kind, index_size=len(snap.docs),
                   index_tombstones=snap.tombstones, index_ef_search=snap.info.ef_search,
                   index_recall_at_10=snap.info.recall_at_10, indexed_watermark=snap.watermark,
                   lag_products=max(pending, abs(size_diff)), lag_updated=pending, lag_size=size_diff,
                   lag_seconds=lag_s, embedder=self._embedder.backend if self._embedder else None)
        return out
