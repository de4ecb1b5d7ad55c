"""`phrase` with plain objects: the template path, the generated path with its grounding check,
and generation down. The LLM is a small object with the two methods phrase uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from gateway.clients import DependencyDown
from gateway.turn.model import Decision, IntentGuess, Move, Outcome, TurnFacts, Understanding
from gateway.turn.phrase import Phraser, reply_context
from gateway.turn.understand import Versions

ORDER = {"id": "KF100001", "status": "shipped", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
         "eta": "2026-12-20", "total": 59.9, "currency": "USD", "refund_status": None, "items": []}


class FakeLLM:
    def __init__(self, reply: str | None) -> None:
        self.reply = reply
        self.calls = 0

    async def chat(self, messages: list[dict[str, str]]) -> str:
        self.calls += 1
        if self.reply is None:
            raise DependencyDown("llm", "down")
        return self.reply

    async def chat_stream(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        self.calls += 1
        if self.reply is None:
            raise DependencyDown("llm", "down")
        for word in self.reply.split(" "):
            yield word + " "


class NoCache:
    async def get(self, key: str) -> None:
        return None

    async def put(self, key: str, value: str) -> None:
        pass

    def key(self, **kw: Any) -> str:
        return "k"


def order_turn(intent: str = "order_status") -> tuple[Understanding, Decision, TurnFacts]:
    und = Understanding(text="where is KF100001?", standalone="where is KF100001?", lang="en",
                        intent=IntentGuess(intent, 0.9), slots={"order_id": "KF100001"}, order_id="KF100001")
    d = Decision(move=Move.ANSWER, intent=intent, order_id="KF100001", use_order=True)
    return und, d, TurnFacts(order=dict(ORDER), found="KF100001", verified=True)


def phraser(reply: str | None, enabled: bool = True) -> tuple[Phraser, FakeLLM]:
    llm = FakeLLM(reply)
    return Phraser(enabled, "m", llm, NoCache(), Versions()), llm  # type: ignore[arg-type]


async def test_template_when_generation_is_off() -> None:
    p, llm = phraser("anything", enabled=False)
    und, d, f = order_turn()
    out = await p.phrase(reply_context(und, d, f), f, und.standalone)
    assert out.source == "template" and "KF100001" in out.text and "shipped" in out.text
    assert llm.calls == 0


GOOD = "Your order KF100001 has shipped with UPS, tracking number 1Z999AA10123456784. It should arrive on 2026-12-20."


async def test_grounded_generation_is_used() -> None:
    p, _ = phraser(GOOD)
    und, d, f = order_turn()
    out = await p.phrase(reply_context(und, d, f), f, und.standalone)
    assert (out.source, out.text) == ("llm", GOOD)
    assert p.checked == 1 and p.rejected == 0


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("reply", ["Your order KF100001 has shipped with UPS.",  # no tracking number, no date
                                   "Sorry, a great day.", GOOD + " I have transferred you to a human agent."])
async def test_reply_check_failures_fall_back_to_the_template(reply: str, stream: bool) -> None:
    p, _ = phraser(reply)
    und, d, f = order_turn()
    events: list[tuple[str, dict]] = []

    async def emit(event: str, data: dict) -> None:
        events.append((event, data))

    out = await p.phrase(reply_context(und, d, f), f, und.standalone, emit if stream else None)
    assert out.source == "template" and out.verdict and out.verdict["ok"] is False
    assert "1Z999AA10123456784" in out.text and p.rejected == 1
    assert set(out.verdict["codes"]) & {"incomplete", "fragment", "claimed_action"}
    if stream:
        assert ("reset", {"reason": "grounding"}) in events


@pytest.mark.parametrize("stream", [False, True])
async def test_invented_fact_falls_back_to_the_template(stream: bool) -> None:
    p, _ = phraser("Your order KF100001 shipped, tracking ZZ123456789XX, total $123.45.")
    und, d, f = order_turn()
    events: list[tuple[str, dict]] = []

    async def emit(event: str, data: dict) -> None:
        events.append((event, data))

    out = await p.phrase(reply_context(und, d, f), f, und.standalone, emit if stream else None)
    assert out.source == "template" and out.verdict and out.verdict["ok"] is False
    assert "123.45" not in out.text and p.rejected == 1
    if stream:
        shown = "".join(e[1]["text"] for e in events if e[0] == "token")
        assert "ZZ123456789XX" not in shown and "123.45" not in shown


async def test_generation_down_is_degraded_not_failed() -> None:
    p, _ = phraser(None)
    und, d, f = order_turn()
    out = await p.phrase(reply_context(und, d, f), f, und.standalone)
    assert out.source == "template" and out.degraded == ["llm"]


async def test_handoff_never_asks_the_llm() -> None:
    p, llm = phraser("Sure!")
    und, _, f = order_turn("human_agent")
    d = Decision(move=Move.HANDOFF, intent="human_agent", handoff_reason="asked_for_human")
    out = await p.phrase(reply_context(und, d, f), f, und.standalone)
    assert out.source == "template" and "human" in out.text.lower() and llm.calls == 0


async def test_action_result_is_the_note_and_template_only() -> None:
    und, _, f = order_turn("cancel_order")
    d = Decision(move=Move.ACT, intent="cancel_order", order_id="KF100001", use_order=True)
    f.action = {"kind": "cancel", "ok": False, "reason": "shipped"}
    ctx = reply_context(und, d, f, Outcome(Move.ACT))
    assert ctx.note == "cancel: not possible: shipped"
    p, llm = phraser("Sure, all done!")
    out = await p.phrase(ctx, f, und.standalone)
    assert "can't be cancelled" in out.text and out.source == "template" and llm.calls == 0


async def test_unverified_order_reaches_neither_reply_nor_llm() -> None:
    und, d, _ = order_turn()
    f = TurnFacts(found="KF100001", verified=False)
    ctx = reply_context(und, d, f, Outcome(Move.VERIFY))
    assert ctx.order is None and ctx.found_order == "KF100001"
    p, llm = phraser("Your order KF100001 has shipped with UPS.")
    out = await p.phrase(ctx, f, und.standalone)
    assert llm.calls == 0 and out.source == "template"
    assert "KF100001" in out.text and "email" in out.text and "shipped" not in out.text


def test_order_facts_only_when_the_decision_uses_them() -> None:
    und, d, f = order_turn()
    d.use_order = False
    assert reply_context(und, d, f).order is None
