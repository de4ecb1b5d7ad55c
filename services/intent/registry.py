"""Model versions on disk: `<data_dir>/models/intent/<version>/` plus a `current` pointer.

The pointer is a small text file holding the version's folder name (or an absolute path),
replaced atomically with `os.replace`, so a reader never sees a half-written pointer.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

META = "meta.json"


def intent_root(models_dir: Path) -> Path:
    return models_dir / "intent"


def new_version_name() -> str:
    return time.strftime("v%Y%m%d-%H%M%S", time.gmtime()) + f"-{os.getpid() % 10000:04d}"


def set_current(root: Path, model_dir: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    model_dir = model_dir.resolve()
    target = model_dir.name if model_dir.parent == root.resolve() else str(model_dir)
    tmp = root / f".current.{os.getpid()}.tmp"
    tmp.write_text(target + "\n", encoding="utf-8")
    os.replace(tmp, root / "current")


def current_dir(root: Path) -> Path | None:
    """The folder `current` points at, if it holds a model."""
    pointer = root / "current"
    if pointer.is_symlink() or pointer.is_dir():
        target = pointer.resolve()
    elif pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip()
        if not name:
            return None
        target = Path(name) if os.path.isabs(name) else root / name
    else:
        return None
    return target if (target / META).is_file() else None


def resolve_model_dir(path: Path) -> Path:
    """Accept either a model folder or a root holding a `current` pointer."""
    if (path / META).is_file():
        return path
    cur = current_dir(path)
    if cur is not None:
        return cur
    cur = current_dir(path / "intent") if (path / "intent").is_dir() else None
    if cur is not None:
        return cur
    raise FileNotFoundError(f"{path}: no intent model (no {META}, no 'current' pointer)")
