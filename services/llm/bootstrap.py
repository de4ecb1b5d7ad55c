"""First-run build for the generation service: train the default responder if it is missing."""

from __future__ import annotations

import importlib

from kefu.settings import Settings


def build(settings: Settings, *, quick: bool = False, force: bool = False) -> None:
    try:
        train = importlib.import_module("services.llm.responder.train")
    except ModuleNotFoundError as exc:
        if exc.name not in {"services.llm.responder", "services.llm.responder.train"}:
            raise
        print("[llm] no responder trainer in this build; the service will say so in /readyz", flush=True)
        return
    train.ensure_default(settings, quick=quick, force=force)
