"""Dialog has no model to build: state lives in Redis, transcripts in the shared SQL schema.

`build` only makes sure the transcript tables exist, so a first `kefu up` can record turns."""

from __future__ import annotations

from kefu.db import init_db
from kefu.settings import Settings


def build(settings: Settings, *, quick: bool = False, force: bool = False) -> None:
    if settings.sql_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    init_db(settings.sql_url)
    print("[dialog] transcript tables ready (conversations, messages); nothing else to build", flush=True)
