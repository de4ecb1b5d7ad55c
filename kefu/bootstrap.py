"""First-run build: every service makes its default artifacts if they are missing.

Each service package exposes `bootstrap.build(settings, quick=..., force=...)`, idempotent and
printing progress; this module only runs them in the build order of `kefu.topology`.
"""

from __future__ import annotations

import importlib
import time

from kefu import topology
from kefu.settings import get_settings


def build_all(only: list[str] | None = None, quick: bool = False, force: bool = False) -> None:
    """`only`: service names; the rest are skipped. A service without a bootstrap has nothing to build."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from kefu import migrate
    from kefu.db import make_engine

    before, after = migrate.upgrade(make_engine(settings.sql_url))
    print(f"[kefu build] database schema at {after}" + (f" (was {before or 'empty'})" if before != after else ""),
          flush=True)
    for name in topology.BUILD_ORDER:
        if only and name not in only:
            continue
        module = topology.service(name).bootstrap_module
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:
                continue
            raise
        t0 = time.perf_counter()
        print(f"[kefu build] {name}: starting", flush=True)
        mod.build(settings, quick=quick, force=force)
        print(f"[kefu build] {name}: done in {time.perf_counter() - t0:.1f}s", flush=True)
