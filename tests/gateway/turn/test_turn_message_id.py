"""A turn's id comes from the widget's client_message_id, so a resend is the same turn to dialog."""

from __future__ import annotations

from gateway.turn.pipeline import turn_message_id


def test_a_resent_message_keeps_its_turn_id() -> None:
    assert turn_message_id("c1", "m1") == turn_message_id("c1", "m1")
    assert turn_message_id("c1", "m1") != turn_message_id("c2", "m1")
    assert turn_message_id("c1", None) != turn_message_id("c1", None)
    assert len(turn_message_id("c1", "m1")) == 32
