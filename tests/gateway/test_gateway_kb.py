"""Help questions answered from the knowledge base end to end: gateway → intent, dialog and the
retrieval service's knowledge base (the demo policy imported by `kefu build`), template replies.

The three questions the section-per-intent lookup answered with the wrong sentence (issue 14), in
English and Chinese, must now quote the sentence that answers them, with the passage's title in
the evidence; a question the policy does not answer gets "not sure" and a person, never an
unrelated quote; agents can search, upload and remove documents."""

from __future__ import annotations

import re

import pytest

EXAMPLES = [
    ("do you ship to Canada?", r"internationally.*7–14 business days", r"Standard shipping takes"),
    ("I was charged twice", r"charged twice.*refund the duplicate", r"We accept Visa"),
    ("same-day delivery?", r"before 2 pm Eastern.*same day", None),
    ("你们发货到加拿大吗？", r"国际订单.*7–14 个工作日", r"标准配送 3–5"),
    ("我被重复扣款了", r"重复扣款.*退还重复的款项", r"我们接受 Visa"),
    ("能当天送达吗？", r"下午 2 点前下单，当天从仓库发出", None),
]


@pytest.mark.parametrize(("question", "says", "not_says"), EXAMPLES)
def test_issue_examples_quote_the_sentence_that_answers(gateway, question: str, says: str,
                                                        not_says: str | None) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = gateway.say(c, cid, auth, question)
        text = r["reply"]["text"]
        assert re.search(says, text), r
        if not_says:
            assert not re.search(not_says, text), text
        assert r["handoff"] is False and "knowledge" not in r["degraded"]
        detail = c.get(f"/v1/agent/conversations/{cid}", headers=gateway.agent_headers).json()
        ev = [m["evidence"] for m in detail["messages"] if m["role"] == "bot"][-1]
        assert ev["passages"] and ev["passages"][0]["title"] in ("Shipping", "Payment", "配送", "付款方式")
        assert ev["knowledge"] == "answered" and ev["passages"][0]["source"].endswith((".md",))


@pytest.mark.parametrize(("question", "lang"), [("can I pay in installments with klarna?", "en"),
                                                ("明天北京天气怎么样", "zh")])
def test_unanswered_question_is_unsure_and_offers_a_person(gateway, question: str, lang: str) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = gateway.say(c, cid, auth, question)
        text = r["reply"]["text"]
        if r["intent"].get("serves", r["intent"]["name"]) not in ("out_of_scope", "complaint", "human_agent"):
            assert ("not sure" in text and "person" in text) or "人工客服" in text, r
        for quote in ("We accept Visa", "我们接受 Visa", "Standard shipping", "标准配送"):
            assert quote not in text


def test_price_with_shipping_and_the_free_shipping_threshold(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = gateway.say(c, cid, auth, "how much is the Kestrel Retro Pro Women's High-Top Sneakers with shipping?")
        assert r["products"], r
        p = r["products"][0]
        text = r["reply"]["text"]
        price = float(p["price"])
        if price > 50:
            assert "ships free" in text, text
        else:  # $29.99 → "so with standard shipping ($5.99) it comes to $35.98 — free over $50.00"
            assert f"${price:.2f}" in text and f"${price + 5.99:.2f}" in text and "$50.00" in text, text


def test_agents_search_upload_and_remove_documents(gateway) -> None:
    h = gateway.agent_headers
    with gateway.client() as c:
        assert c.get("/v1/agent/kb/documents").status_code == 401
        docs = c.get("/v1/agent/kb/documents", headers=h).json()["documents"]
        assert {d["source"].rsplit("/", 1)[-1] for d in docs} >= {"en.md", "zh.md"}
        found = c.post("/v1/agent/kb/search", json={"question": "do you ship to Canada?"}, headers=h).json()
        assert found["answered"] and "internationally" in found["passages"][0]["answer"]
        bad = c.post("/v1/agent/kb/documents", json={"name": "faq.pdf", "content": "%PDF-1.4"}, headers=h)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_document"
        faq = ('question,answer\nIs there a loyalty program?,"Yes: members earn 1 point per dollar, and points '
               'never expire."\n')
        up = c.post("/v1/agent/kb/documents", json={"name": "gift-cards.csv", "content": faq}, headers=h)
        assert up.status_code == 201, up.text
        doc = up.json()
        assert doc["outcome"] == "added" and doc["passages"] == 1
        cid, auth = gateway.new_conversation(c)
        r = gateway.say(c, cid, auth, "is there a loyalty program?")
        assert "never expire" in r["reply"]["text"], r
        changed = {"name": "gift-cards.csv", "content": faq.replace("1 point", "2 points")}
        again = c.post("/v1/agent/kb/documents", json=changed, headers=h).json()
        assert again["outcome"] == "updated" and again["version"] == 2
        assert c.delete(f"/v1/agent/kb/documents/{doc['id']}", headers=h).status_code == 200
        assert c.delete(f"/v1/agent/kb/documents/{doc['id']}", headers=h).status_code == 404
        gone = c.post("/v1/agent/kb/search", json={"question": "is there a loyalty program?"}, headers=h).json()
        assert all("never expire" not in p["text"] for p in gone["passages"])
