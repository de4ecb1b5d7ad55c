"""Saved indexes on disk, so a restart loads vectors instead of embedding the catalog again.

Layout (`<data_dir>/index/`): `CURRENT` names the live version directory `vNNNNNN/` holding
`vectors.faiss` and `manifest.json` (product id -> [vector id, text hash], build facts). A new
version is written to a temporary directory and renamed, then `CURRENT` is replaced atomically,
so a reader in another process never sees half a version; a file lock keeps two writers apart.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss

from . import vectors as V
from .embed import DIM, MODEL_ID
from .rwlock import RWLock
from .snapshot import Doc, Snapshot

KEEP_VERSIONS = 2  # the live one and the previous one, for readers mid-load


class IndexStore:
    """Versioned index directories under one folder."""

    def __init__(self, folder: Path, lock: RWLock, log: Callable[[str], None]) -> None:
        self.dir = folder
        self.dir.mkdir(parents=True, exist_ok=True)
        self.lock = lock  # the live index is read (written out) while searches may run
        self.log = log

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        with open(self.dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def current_version(self) -> int:
        """The version `CURRENT` names; 0 when nothing was saved yet."""
        try:
            return int((self.dir / "CURRENT").read_text().strip().lstrip("v"))
        except (FileNotFoundError, ValueError):
            return 0

    def load(self) -> Snapshot | None:
        """The saved index (vectors + id map), or None when there is none usable; the sync that
        follows fills in the rest (`tokens_missing`)."""
        ver = self.current_version()
        vdir = self.dir / f"v{ver:06d}"
        if not ver or not (vdir / "manifest.json").exists():
            return None
        man = json.loads((vdir / "manifest.json").read_text())
        if man.get("model") != MODEL_ID or man.get("dim") != DIM:
            self.log("saved index was built with another model; rebuilding")
            return None
        index = faiss.read_index(str(vdir / "vectors.faiss"))
        info = V.BuildInfo(**man["build"])
        if not self._tune(index, info, man["next_vid"]):
            return None
        docs = {pid: Doc(pid=pid, vid=v[0], hash=v[1], tokens=[], price=None, stock=0, category="", brand="")
                for pid, v in man["items"].items()}
        return Snapshot(version=ver, generation=0, index=index, info=info, docs=docs, next_vid=man["next_vid"],
                        watermark="", catalog_count=0, built_at=man["built_at"], tokens_missing=True)

    def _tune(self, index: Any, info: V.BuildInfo, next_vid: int) -> bool:
        """Restore the search parameters the .faiss file does not keep; False if unusable."""
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = info.nprobe
        elif isinstance(index, faiss.IndexHNSW):
            if index.ntotal != next_vid:  # vid == HNSW position; anything else is unusable
                self.log("saved HNSW index does not match its manifest; rebuilding")
                return False
            index.hnsw.efSearch = info.ef_search or index.hnsw.efSearch
        return True

    def save(self, snap: Snapshot) -> int:
        """Write `snap` as a new version, point CURRENT at it and mark `snap` as that version."""
        with self._file_lock():
            ver = max(self.current_version(), snap.version) + 1
            tmp = self.dir / f".v{ver:06d}.tmp{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            self._write(tmp, snap, ver)
            final = self.dir / f"v{ver:06d}"
            shutil.rmtree(final, ignore_errors=True)
            os.replace(tmp, final)
            cur_tmp = self.dir / f".CURRENT.tmp{os.getpid()}"
            cur_tmp.write_text(f"v{ver:06d}\n")
            os.replace(cur_tmp, self.dir / "CURRENT")
            for old in sorted(self.dir.glob("v[0-9]*"))[:-KEEP_VERSIONS]:
                shutil.rmtree(old, ignore_errors=True)
        snap.version, snap.generation = ver, 0
        return ver

    def _write(self, folder: Path, snap: Snapshot, ver: int) -> None:
        with self.lock.read():
            faiss.write_index(snap.index, str(folder / "vectors.faiss"))
        man = {"version": ver, "model": MODEL_ID, "dim": DIM, "built_at": time.time(),
               "next_vid": snap.next_vid, "count": len(snap.docs), "watermark": snap.watermark,
               "build": snap.info.__dict__,
               "items": {d.pid: [d.vid, d.hash] for d in snap.docs.values()}}
        (folder / "manifest.json").write_text(json.dumps(man))
