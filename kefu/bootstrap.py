"""First-run build: every service makes its default artifacts if they are missing.

Each service package exposes `bootstrap.build(settings, quick=..., force=...)`, idempotent and
printing progress; this module only runs them in dependency order.
"""

from __future__ import annotations

import importlib
import time

from kefu.settings import get_settings

# Catalog before anything that reads products; LLM last (longest).
ORDER = ("retrieval", "gateway", "intent", "dialog", "llm")
MODULES = {
    "retrieval": "services.retrieval.bootstrap",
    "gateway": "gateway.bootstrap",
    "intent": "services.intent.bootstrap",
    "dialog": "services.dialog.bootstrap",
    "llm": "services.llm.bootstrap",
}


def build_all(only: list[str] | None = None, quick: bool = False, force: bool = False) -> None:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from kefu import migrate
    from kefu.db import make_engine

    before, after = migrate.upgrade(make_engine(settings.sql_url))
    print(f"[kefu build] database schema at {after}" + (f" (was {before or 'empty'})" if before != after else ""),
          flush=True)
    for name in ORDER:
        if only and name not in only:
            continue
        try:
            mod = importlib.import_module(MODULES[name])
        except ModuleNotFoundError as exc:
            if exc.name == MODULES[name]:
                continue
            raise
        t0 = time.perf_counter()
        print(f"[kefu build] {name}: starting", flush=True)
        mod.build(settings, quick=quick, force=force)
        print(f"[kefu build] {name}: done in {time.perf_counter() - t0:.1f}s", flush=True)
