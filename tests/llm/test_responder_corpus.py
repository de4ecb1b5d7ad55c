"""The responder corpus: deterministic, covers every intent in both languages, grounded by construction."""

from __future__ import annotations

import csv
import re

from kefu.contracts import ReplyContext, Turn
from kefu.prompting import build_messages, clip_sentences, render_facts
from kefu.vocab import serves
from services.llm.responder.corpus import (
    BRANDS_HELDOUT,
    BRANDS_TRAIN,
    INTENTS,
    LANGS,
    corpus_hash,
    generate,
    make_sample,
    real_catalog,
)
from services.llm.responder.evaluate import extract_facts, score_reply


def test_corpus_is_deterministic_and_seeded() -> None:
    a, b = generate(60, seed=3), generate(60, seed=3)
    assert corpus_hash(a) == corpus_hash(b)
    assert [s.reply for s in a] == [s.reply for s in b]
    assert corpus_hash(generate(60, seed=4)) != corpus_hash(a)
    # Sample i depends only on (seed, split, i): a longer corpus starts with the shorter one.
    assert corpus_hash(generate(80, seed=3)[:60]) == corpus_hash(a)


def test_every_intent_in_both_languages() -> None:
    samples = generate(len(INTENTS) * 2 * 3, seed=0)
    seen = {(s.intent, s.lang) for s in samples}
    assert seen == {(i, lg) for i in INTENTS for lg in LANGS}
    zh = [s for s in samples if s.lang == "zh"]
    assert all(re.search(r"[\u4e00-\u9fff]", s.reply) for s in zh)
    assert all(s.messages[0]["content"].startswith("你是") for s in zh)


def test_intents_match_bundled_data_when_present() -> None:
    try:
        import kefu.data as kd  # type: ignore[import-not-found]

        path = kd.intents_path()
    except (ImportError, AttributeError):
        return  # the data package is not there yet; INTENTS is checked against the list below
    with open(path, encoding="utf-8") as fh:
        labels = {row["label"] for row in csv.DictReader(fh)}
    flows = {serves(label) for label in labels}  # finer v2 labels are replied to by their flow
    assert set(INTENTS) <= flows, set(INTENTS) - flows


def test_reference_replies_are_grounded_and_answer_the_intent() -> None:
    """The evaluator's checks hold for the corpus's own replies (else the metrics would be wrong)."""
    for s in generate(420, seed=1, split="heldout"):
        r = score_reply(s, s.reply)
        assert r["answered"], (s.intent, s.lang, s.reply, s.required, s.markers)
        assert not r["unsupported"], (s.intent, s.reply, r["unsupported"])
        assert r["exact"]


def test_evaluator_catches_invented_facts() -> None:
    s = make_sample(0, "heldout", 3, intent="order_status", lang="en")
    assert s.intent == "order_status"
    bad = s.reply + " Your other order KF123456 costs 19.99 USD."
    r = score_reply(s, bad)
    assert ("order_id", "KF123456") in r["unsupported"]
    assert ("price", "19.99") in r["unsupported"]
    kinds = {k for k, _ in extract_facts("Order KF900001 ships with UPS, tracking 1Z1234567890, by 2025-01-02.")}
    assert {"order_id", "tracking", "date"} <= kinds


def test_heldout_uses_unseen_ids_and_brands() -> None:
    train, held = generate(200, seed=0), generate(200, seed=0, split="heldout")
    train_ids = {i for s in train for i in re.findall(r"KF\d{6}|P\d{5}", s.messages[0]["content"])}
    held_ids = {i for s in held for i in re.findall(r"KF\d{6}|P\d{5}", s.messages[0]["content"])}
    assert held_ids and not (train_ids & held_ids)
    assert not set(BRANDS_HELDOUT) & set(BRANDS_TRAIN)
    train_text = "\n".join(s.messages[0]["content"] + s.reply for s in train)
    assert not any(re.search(rf"\b{b}\b", train_text) for b in BRANDS_HELDOUT)
    _train_real, held_real = real_catalog()
    assert not any(p["title"] in train_text for p in held_real)


def test_prompt_format_renders_facts_with_spaces_before_values() -> None:
    ctx = ReplyContext(
        lang="en",
        intent="order_status",
        user_text="where is  my order?",
        order={
            "id": "KF123456",
            "status": "shipped",
            "carrier": "UPS",
            "tracking_number": "1Z0000000001",
            "eta": "2025-03-14T00:00:00Z",
            "total": 59.9,
            "currency": "USD",
            "items": [{"title": "Aurora Earbuds", "qty": 1}],
        },
        products=[
            {
                "id": "P00001",
                "title": "Aurora Earbuds",
                "price": 59.9,
                "stock": 3,
                "attributes": {"title_zh": "Aurora 耳机"},
            }
        ],
        policy="## Returns\n- Items can be returned within 30 days. " + "More text. " * 60,
        note="cannot cancel: the order has already shipped",
        slots={"order_id": "KF123456", "nested": {"x": 1}},
        history=[Turn(user="hi", bot="Hello!")],
    )
    facts = render_facts(ctx)
    assert (
        "order: id KF123456 | status shipped | carrier UPS | tracking 1Z0000000001 | eta 2025-03-14 | total 59.90 USD"
        in facts
    )
    assert "product 1: id P00001 | title Aurora Earbuds | price 59.90 USD | stock 3" in facts
    assert "policy: Items can be returned within 30 days." in facts
    assert len(facts.split("policy: ")[1].split("\n")[0]) <= 240
    assert "slots: order_id KF123456" in facts and "nested" not in facts
    assert "earlier customer: hi" in facts
    msgs = build_messages(ctx)
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert msgs[1]["content"] == "where is my order?"
    zh = render_facts(ctx.model_copy(update={"lang": "zh"}))
    assert "title Aurora 耳机" in zh
    assert clip_sentences("第一句。第二句。", 5) == "第一句。"
