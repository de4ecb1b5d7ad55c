"""The knowledge base in SQL: documents with versions and their passages.

SQL is the truth; the search index (index.py) is derived from it. Each file is written in its own
transaction, so a bad file changes nothing and a good one is never half-imported. Re-importing a
file whose text changed bumps its version and replaces its passages; importing a folder again
removes the documents of files that are gone from it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kefu.db import KbDocument, KbPassage, utcnow

from .parse import FORMATS, Document, ParseError, format_of, parse, read_text

MAX_FILES = 10_000


def document_id(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def content_hash(doc: Document) -> str:
    h = hashlib.sha256(f"{doc.lang}\x1f{doc.title}".encode())
    for p in doc.passages:
        h.update(f"\x1e{p.key}\x1f{p.title}\x1f{p.text}".encode())
    return h.hexdigest()[:32]


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)  # {"file", "error"}
    passages: int = 0

    @property
    def imported(self) -> int:
        return len(self.added) + len(self.updated) + len(self.unchanged)

    def as_dict(self) -> dict[str, Any]:
        return {"added": len(self.added), "updated": len(self.updated), "unchanged": len(self.unchanged),
                "removed": len(self.removed), "failed": self.failed, "passages": self.passages,
                "documents": self.added + self.updated + self.unchanged}


def store_document(engine: Engine, doc: Document) -> tuple[str, str]:
    """(document id, "added" | "updated" | "unchanged"), in one transaction."""
    did, digest = document_id(doc.source), content_hash(doc)
    with Session(engine) as s, s.begin():
        row = s.get(KbDocument, did)
        if row is not None and row.content_hash == digest:
            return did, "unchanged"
        outcome = "added" if row is None else "updated"
        if row is None:
            row = KbDocument(id=did, source=doc.source, version=0)
            s.add(row)
        row.title, row.lang, row.format = doc.title[:512], doc.lang, doc.format
        row.content_hash, row.version, row.updated_at = digest, (row.version or 0) + 1, utcnow()
        s.execute(delete(KbPassage).where(KbPassage.document_id == did))
        s.flush()
        s.add_all(KbPassage(id=f"{did}:{p.key}"[:160], document_id=did, position=p.position, title=p.title[:512],
                            text=p.text, lang=doc.lang) for p in doc.passages)
    return did, outcome


def remove_document(engine: Engine, key: str) -> bool:
    """By id or source; its passages go with it."""
    with Session(engine) as s, s.begin():
        row = s.get(KbDocument, key) or s.scalars(select(KbDocument).where(KbDocument.source == key)).first()
        if row is None:
            return False
        s.execute(delete(KbPassage).where(KbPassage.document_id == row.id))
        s.delete(row)
    return True


def files_under(path: Path) -> list[Path]:
    """The importable files of a folder (recursively, sorted), or the file itself."""
    if path.is_file():
        return [path]
    found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    if len(found) > MAX_FILES:
        raise ParseError(f"more than {MAX_FILES} files under {path}")
    return found


def source_name(file: Path, root: Path) -> str:
    """What a document is called: its absolute path (a folder's files under the folder's), so the
    same file imported as `kefu/data/policy` and as `/srv/kefu/kefu/data/policy` is one document
    updated, not two documents answering alike (the demo policy was in the index twice so)."""
    root, file = Path(os.path.abspath(root)), Path(os.path.abspath(file))  # links stay as named
    return str(file if file == root else root / file.relative_to(root))


def _progress(done: int, total: int, name: str, out: Any = sys.stderr) -> None:
    if total > 1:
        print(f"[kb] {done}/{total} {name}", file=out, flush=True)


def import_paths(engine: Engine, paths: Iterable[Path], *, lang: str | None = None,
                 progress: Callable[[int, int, str], None] | None = _progress) -> ImportReport:
    """Files and folders into the knowledge base; for a folder, documents of files no longer in
    it are removed. A file that cannot be read or parsed is reported and skipped."""
    report = ImportReport()
    jobs: list[tuple[Path, Path]] = []
    for root in paths:
        if not root.exists():
            report.failed.append({"file": str(root), "error": "no such file or folder"})
            continue
        try:
            jobs += [(f, root) for f in files_under(root)]
        except ParseError as exc:
            report.failed.append({"file": str(root), "error": str(exc)})
    for n, (file, root) in enumerate(jobs, start=1):
        name = source_name(file, root)
        try:
            fmt = format_of(name)
            doc = parse(read_text(file), name, fmt=fmt, lang=lang)
            _, outcome = store_document(engine, doc)
        except ParseError as exc:
            report.failed.append({"file": name, "error": str(exc)})
            continue
        getattr(report, outcome).append(name)
        report.passages += len(doc.passages)
        if progress:
            progress(n, len(jobs), name)
    for root in paths:
        if root.is_dir():
            report.removed += prune(engine, root, {source_name(f, root) for f, r in jobs if r == root})
    return report


def prune(engine: Engine, root: Path, keep: set[str]) -> list[str]:
    """Remove documents imported from under `root` that are not in `keep` (their files are gone)."""
    prefix = os.path.abspath(root).rstrip("/") + "/"
    with Session(engine) as s:
        gone = [src for src in s.scalars(select(KbDocument.source).where(KbDocument.source.startswith(prefix)))
                if src not in keep]
    for src in gone:
        remove_document(engine, src)
    return gone


def documents(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        counts = dict(s.execute(select(KbPassage.document_id, func.count()).group_by(KbPassage.document_id)).all())
        return [{"id": d.id, "source": d.source, "title": d.title, "lang": d.lang, "format": d.format,
                 "version": d.version, "passages": int(counts.get(d.id, 0)),
                 "updated_at": d.updated_at.isoformat() if d.updated_at else None}
                for d in s.scalars(select(KbDocument).order_by(KbDocument.source))]


@dataclass
class Row:
    id: str
    document_id: str
    source: str
    title: str
    text: str
    lang: str


def passages(engine: Engine) -> list[Row]:
    """Every passage with its document's source, in document order."""
    with Session(engine) as s:
        q = (select(KbPassage.id, KbPassage.document_id, KbDocument.source, KbPassage.title, KbPassage.text,
                    KbPassage.lang)
             .join(KbDocument, KbDocument.id == KbPassage.document_id)
             .order_by(KbDocument.source, KbPassage.position))
        return [Row(*r) for r in s.execute(q).all()]


def signature(engine: Engine) -> tuple[int, int, str]:
    """(documents, passages, latest change): the index re-syncs when it moves."""
    with Session(engine) as s:
        n_docs, latest = s.execute(select(func.count(), func.max(KbDocument.updated_at))).one()
        n_pass = s.execute(select(func.count()).select_from(KbPassage)).scalar_one()
    return int(n_docs), int(n_pass), str(latest or "")
