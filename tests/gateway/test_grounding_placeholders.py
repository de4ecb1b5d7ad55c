"""A delexicalised reply that reached the gateway unfilled (responder served without kefu's
relexicaliser) is rejected like any other ungrounded reply."""

from __future__ import annotations

from gateway.grounding import check
from kefu.contracts import ReplyContext


def _ctx() -> ReplyContext:
    return ReplyContext(intent="order_status", user_text="where is my order KF100001?", lang="en",
                        order={"id": "KF100001", "status": "shipped", "carrier": "UPS",
                               "tracking_number": "1Z999AA10123456784"})


def test_unfilled_placeholder_rejected() -> None:
    verdict = check("Order [order.id] is [order.status], tracking [order.tracking].", _ctx())
    assert not verdict.ok and "placeholder" in verdict.codes


def test_filled_reply_passes() -> None:
    verdict = check("Order KF100001 is shipped with UPS, tracking 1Z999AA10123456784.", _ctx())
    assert verdict.ok, verdict.reasons
