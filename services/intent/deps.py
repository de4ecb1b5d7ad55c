"""FastAPI dependencies of the intent routes: the one IntentService (`app.state.intent`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.intent.service import IntentService


async def get_intent(request: Request) -> IntentService:
    """async: a plain-def dependency would cost a thread hop per classification."""
    return request.app.state.intent


IntentDep = Annotated[IntentService, Depends(get_intent)]
