"""Dialog has no model to build: state lives in Redis, transcripts in the shared SQL schema.

`build` only makes sure the transcript tables exist, so a first `kefu up` can record turns."""

from __future__ import annotations

from kefu.settings import Settings
from services.dialog.sqlstore import prepare_sql


def build(settings: Settings, *, quick: bool = False, force: bool = False) -> None:
    prepare_sql(settings)
    print("[dialog] transcript tables ready (conversations, messages); nothing else to build", flush=True)
