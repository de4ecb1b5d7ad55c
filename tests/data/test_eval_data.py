"""The bundled evaluation data (kefu/data/eval) is what shopper-facing quality is measured on; these
checks keep it well-formed for `kefu eval conversations`, resolvable against the demo shop, big and
balanced enough to mean something, and labelled only with the proposed taxonomy's names."""

from __future__ import annotations

import collections
import csv
import hashlib
import json
import re
from pathlib import Path

import pytest

import kefu.data as data
from kefu.vocab.intents import Intent

EVAL = Path(data.__file__).parent / "eval"
SOURCES = Path(data.__file__).parent / "SOURCES.md"
TOP_KEYS = {"id", "lang", "split", "source", "source_ref", "verify", "turns"}
EXPECT_TYPES = {
    "intents": list, "reply_matches": list, "reply_not_matches": list, "harmful": list,
    "products_any": list, "products_where": dict, "no_products": bool, "asks_order_id": bool,
    "asks_clarification": bool, "handoff": bool, "action": str, "no_action": bool,
}
ACTIONS = {"cancel", "return", "address"}
ORDER_REF = re.compile(r"\{order:([a-z_]+)\}")
ORDER_FIELD = re.compile(r"\{order\.([a-z_]+)\}")
PRODUCT_REF = re.compile(r"\{product:([^}]*)\}")
PRODUCT_FIELD = re.compile(r"\{product\.([a-z_]+)\}")
CJK = re.compile(r"[\u4e00-\u9fff]")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def split_of(key: str) -> str:
    return "dev" if int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "test"


@pytest.fixture(scope="module")
def conversations() -> list[dict]:
    lines = (EVAL / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def oos_rows() -> list[dict[str, str]]:
    with (EVAL / "oos.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def taxonomy() -> dict[str, str]:
    text = (EVAL / "taxonomy_proposal.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([a-z_]+)` \| ([a-z_]+) \|", text, re.M))


def turns_of(conversations: list[dict]) -> list[tuple[dict, dict]]:
    return [(c, t) for c in conversations for t in c["turns"]]


def test_taxonomy_size_groups_and_kept_names(taxonomy: dict[str, str]) -> None:
    assert 40 <= len(taxonomy) <= 80
    assert set(taxonomy.values()) == {"order", "product", "policy", "account", "payment", "feedback",
                                      "social", "escalation", "out_of_scope"}
    assert {i.value for i in Intent} <= set(taxonomy), "today's names still fit and are kept"


def test_conversation_shape(conversations: list[dict]) -> None:
    ids = [c["id"] for c in conversations]
    assert len(ids) == len(set(ids))
    for c in conversations:
        assert set(c) <= TOP_KEYS and {"id", "lang", "split", "source", "source_ref", "turns"} <= set(c), c["id"]
        assert c["lang"] in {"en", "zh"} and c["split"] in {"dev", "test"}
        assert c["source"].strip() and c["source_ref"].strip()
        assert isinstance(c.get("verify", True), bool)
        assert 1 <= len(c["turns"]) <= 4, c["id"]
        for t in c["turns"]:
            assert set(t) == {"user", "expect"} and t["user"].strip(), c["id"]
            assert t["expect"], f"{c['id']}: a judged turn needs an expectation"
            for key, value in t["expect"].items():
                assert key in EXPECT_TYPES, f"{c['id']}: unknown expectation {key}"
                assert isinstance(value, EXPECT_TYPES[key]), f"{c['id']}: {key}"
            if "action" in t["expect"]:
                assert t["expect"]["action"] in ACTIONS


def test_split_is_a_hash_of_the_conversation_id(conversations: list[dict]) -> None:
    assert all(c["split"] == split_of(c["id"]) for c in conversations)


def test_placeholders_resolve_against_the_demo_shop(conversations: list[dict]) -> None:
    orders = data.load_orders()
    statuses = {o["status"] for o in orders} | {"any", "missing"}
    fields = set().union(*(o.keys() for o in orders))
    catalog = {p["id"]: p for p in data.load_catalog()}
    categories = {p["category"] for p in catalog.values()}
    for c in conversations:
        seen_order = seen_product = False
        for t in c["turns"]:
            texts = [t["user"]] + [p for k in ("reply_matches", "reply_not_matches", "harmful")
                                   for p in t["expect"].get(k, [])]
            for text in texts:
                for status in ORDER_REF.findall(text):
                    assert status in statuses, f"{c['id']}: no order is {status}"
                    seen_order = True
                for query in PRODUCT_REF.findall(text):
                    assert query.strip(), f"{c['id']}: empty product query"
                    seen_product = True
                for field in ORDER_FIELD.findall(text):
                    assert seen_order and field in fields, f"{c['id']}: {{order.{field}}}"
                for _field in PRODUCT_FIELD.findall(text):
                    assert seen_product, f"{c['id']}: product field before a product"
            for pid in t["expect"].get("products_any", []):
                assert pid in catalog, f"{c['id']}: {pid}"
            where = t["expect"].get("products_where", {})
            if "category" in where:
                assert where["category"] in categories, f"{c['id']}: {where['category']}"


def test_regexes_compile(conversations: list[dict]) -> None:
    for _c, t in turns_of(conversations):
        for key in ("reply_matches", "reply_not_matches", "harmful"):
            for pattern in t["expect"].get(key, []):
                re.compile(re.sub(r"\{[a-z]+[.:][^}]*\}", "x", pattern), re.I)


def test_intents_come_from_the_taxonomy(conversations: list[dict], oos_rows: list[dict[str, str]],
                                        taxonomy: dict[str, str]) -> None:
    for c, t in turns_of(conversations):
        assert set(t["expect"].get("intents", [])) <= set(taxonomy), c["id"]
    assert {r["label"] for r in oos_rows} <= set(taxonomy)


def test_conversation_counts_and_balance(conversations: list[dict]) -> None:
    pairs = turns_of(conversations)
    by_lang = collections.Counter(c["lang"] for c, _ in pairs)
    by_split = collections.Counter(c["split"] for c, _ in pairs)
    assert len(pairs) >= 300 and by_lang["zh"] >= 120 and by_lang["en"] >= 120
    assert sum(1 for c in conversations if 2 <= len(c["turns"]) <= 4) >= 40
    assert 0.35 <= by_split["dev"] / len(pairs) <= 0.65
    for lang in ("en", "zh"):
        assert {c["split"] for c, _ in pairs if c["lang"] == lang} == {"dev", "test"}
    assert sum(1 for _, t in pairs if "harmful" in t["expect"] or "no_action" in t["expect"]) >= 100


def test_shopper_text_matches_its_language_and_carries_no_contact_details(conversations: list[dict]) -> None:
    for c in conversations:
        assert bool(CJK.search(c["turns"][0]["user"])) == (c["lang"] == "zh"), c["id"]
        for t in c["turns"]:
            assert not EMAIL.search(t["user"]) and not re.search(r"\d{9,}", t["user"]), c["id"]


def test_oos_benchmark(oos_rows: list[dict[str, str]]) -> None:
    header = (EVAL / "oos.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "text,label,lang,source,split"
    assert len(oos_rows) >= 1000
    texts = [r["text"].lower() for r in oos_rows]
    assert len(texts) == len(set(texts)) and all(t.strip() for t in texts)
    for r in oos_rows:
        assert r["lang"] in {"en", "zh"} and r["split"] == split_of(r["source"] + "|" + r["text"])
        assert bool(CJK.search(r["text"])) == (r["lang"] == "zh"), r["text"]
    cells = collections.Counter((r["lang"], r["label"] == "out_of_scope", r["split"]) for r in oos_rows)
    for lang in ("en", "zh"):
        for oos in (True, False):
            for split in ("dev", "test"):
                assert cells[(lang, oos, split)] >= 50, (lang, oos, split)
    splits = collections.Counter(r["split"] for r in oos_rows)
    assert 0.4 <= splits["dev"] / len(oos_rows) <= 0.6


def test_every_source_is_documented(conversations: list[dict], oos_rows: list[dict[str, str]]) -> None:
    documented = SOURCES.read_text(encoding="utf-8")
    for source in {c["source"] for c in conversations} | {r["source"] for r in oos_rows}:
        assert f"`{source}`" in documented, source


def test_kb_questions_split_by_hash_and_cover_both_languages() -> None:
    path = Path(__file__).resolve().parents[2] / "kefu" / "data" / "eval" / "kb_questions.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) >= 200
    assert sum(r["lang"] == "zh" for r in rows) >= 80 and sum(r["lang"] == "en" for r in rows) >= 100
    for r in rows:
        want = "dev" if int(hashlib.sha256(r["question"].encode()).hexdigest(), 16) % 2 == 0 else "test"
        assert r["split"] == want, r
    assert any(not (r["answer_passage_id"] or r["answer_regex"]) for r in rows)  # unanswerable ones too
