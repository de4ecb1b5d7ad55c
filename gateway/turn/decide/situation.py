"""The conversation as the decision sees it (besides the understanding of this message)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Situation:
    status: str = "bot"  # bot | pending_human (an agent-held conversation never reaches decide)
    drafting: bool = False  # an agent's suggested reply: look, never act
