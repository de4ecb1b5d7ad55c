"""A free-text search shows hits only when they are on topic (gateway.turn.shop.on_topic)."""

from __future__ import annotations

from gateway.turn.shop import on_topic


def _hit(bm25: float | None, dense: float) -> dict:
    sc = {"dense": dense} | ({"bm25": bm25} if bm25 is not None else {})
    return {"id": "p", "scorers": sc}


def test_a_strong_word_match_is_on_topic() -> None:
    assert on_topic([_hit(5.5, 0.70)], zh=False)


def test_a_weak_word_match_needs_close_meaning() -> None:
    assert on_topic([_hit(2.5, 0.41)], zh=False)  # "something warm for winter" → winter boots
    assert not on_topic([_hit(1.9, 0.36)], zh=False)  # "gym equipment" → earbuds


def test_no_shared_word_needs_very_close_meaning() -> None:
    assert not on_topic([_hit(None, 0.45)], zh=False)  # "mattress" → pillows
    assert on_topic([_hit(None, 0.60)], zh=False)


def test_chinese_word_matches_count() -> None:
    assert on_topic([_hit(1.8, 0.12)], zh=True)  # "跑鞋" → running shoes (short Chinese queries score low)
    assert not on_topic([_hit(None, 0.21)], zh=True)  # "煤气灶" → jeans
