"""FastAPI dependencies of the dialog routes: the store the lifespan built, and the path ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from services.dialog.store import DialogStore

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


async def get_store(request: Request) -> DialogStore:
    """The store of the service's `DialogRuntime` (`app.state.dialog`, set by the lifespan).

    async: FastAPI runs a plain-def dependency in the thread pool, a thread hop per request."""
    return request.app.state.dialog.store


StoreDep = Annotated[DialogStore, Depends(get_store)]
Cid = Annotated[str, Path(pattern=ID_PATTERN, description="conversation id")]
LeaseId = Annotated[str, Path(pattern=ID_PATTERN)]
