"""Delexicalised replies: placeholders in the corpus, exact values back at serving time.

The responder writes `[order.tracking]`; `relexicalise` fills it from the prompt's FACTS, drops a
clause whose field is missing (never invents), and the generation service applies it — whole text
and streamed — only for a model folder that says `kefu_delexicalised` in its meta.json.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from pathlib import Path

import torch
from fastapi.testclient import TestClient
from transformers import AutoModelForCausalLM, AutoTokenizer

from kefu.contracts import ReplyContext
from kefu.prompting import build_messages
from kefu.settings import Settings
from services.llm.app import create_app
from services.llm.config import LLMSettings
from services.llm.responder import train as T
from services.llm.responder.batches import encode_all
from services.llm.responder.corpus import FACT_FREE, INTENTS, generate
from services.llm.responder.delex import (
    META_FLAG,
    PLACEHOLDER_RE,
    PLACEHOLDERS,
    StreamRelexer,
    delexicalise,
    parse_facts,
    relexicalise,
)
from services.llm.responder.evaluate import extract_facts, score_reply

ORDER = {
    "id": "KF123456", "status": "shipped", "carrier": "UPS", "tracking_number": "1Z4821930577",
    "eta": "2025-03-14", "total": 59.9, "currency": "USD", "items": [{"title": "Aurora Earbuds", "qty": 1}],
}
PRODUCT = {"id": "P00012", "title": "Aurora Earbuds", "price": 59.9, "currency": "USD", "stock": 12,
           "attributes": {"title_zh": "Aurora 蓝牙耳机"}}


def _facts(lang: str = "en", **kw) -> dict[str, str]:
    ctx = ReplyContext(lang=lang, intent=kw.pop("intent", "order_status"), user_text="where is it", **kw)
    return parse_facts(build_messages(ctx)[0]["content"])


def _stream(text: str, facts: dict[str, str], rng: random.Random) -> str:
    sr, out, i = StreamRelexer(facts), "", 0
    while i < len(text):
        k = rng.randint(1, 5)
        out += sr.feed(text[i:i + k])
        i += k
    return out + sr.finish()


# ------------------------------------------------------------------ facts and the corpus


def test_parse_facts_reads_the_rendered_block() -> None:
    f = _facts(order=ORDER, products=[PRODUCT], policy="Items can be returned within 30 days. Refunds take 5 days.",
               slots={"order_id": "KF123456"})
    assert f["order.id"] == "KF123456" and f["order.status"] == "shipped" and f["order.tracking"] == "1Z4821930577"
    assert f["order.eta"] == "2025-03-14" and f["order.total"] == "59.90 USD" and f["order.carrier"] == "UPS"
    assert f["product1.title"] == "Aurora Earbuds" and f["product1.price"] == "59.90 USD"
    assert f["product1.stock"] == "12" and f["product1.id"] == "P00012"
    assert f["policy.1"] == "Items can be returned within 30 days." and f["policy.2"] == "Refunds take 5 days."
    assert f["slot.order_id"] == "KF123456" and f["intent"] == "order_status" and f["lang"] == "en"
    zh = _facts("zh", products=[PRODUCT])
    assert zh["product1.title"] == "Aurora 蓝牙耳机" and zh["lang"] == "zh"
    assert parse_facts("no facts here") == {}


def test_placeholders_are_a_closed_vocabulary() -> None:
    assert len(PLACEHOLDERS) == len(set(PLACEHOLDERS)) and len(PLACEHOLDERS) < 40
    assert all(PLACEHOLDER_RE.fullmatch(p) for p in PLACEHOLDERS)
    for p in ("[order.tracking]", "[product1.price]", "[policy.1]", "[slot.order_id]"):
        assert p in PLACEHOLDERS


def test_corpus_replies_are_delexicalised_and_round_trip() -> None:
    seen: set[str] = set()
    for split in ("train", "heldout"):
        for s in generate(400, seed=3, split=split):
            facts = parse_facts(s.messages[0]["content"])
            names = PLACEHOLDER_RE.findall(s.delex)
            assert set(names) <= set(PLACEHOLDERS), names
            seen.update(names)
            # No fact value that the FACTS hold is left verbatim in the training reply.
            assert not re.search(r"KF\d{6}|\bP\d{5}\b|\d{4}-\d{2}-\d{2}|\d+\.\d{2}", s.delex), s.delex
            out, missing = relexicalise(s.delex, facts)
            assert out == s.reply.strip() and not missing, (s.delex, s.reply)
            if s.intent not in FACT_FREE and s.required and any(r in facts.values() for r in s.required):
                assert names, s.delex
    assert {"[order.id]", "[order.tracking]", "[product1.title]", "[product1.price]", "[policy.1]"} <= seen


def test_delexicalise_respects_token_boundaries() -> None:
    f = {"product1.stock": "2", "product1.price": "22.95 USD", "product1.title": "Brew 2"}
    assert delexicalise("Brew 2 costs 22.95 USD; 2 left, not 22 or 2.5.", f) == (
        "[product1.title] costs [product1.price]; [product1.stock] left, not 22 or 2.5.")


# ------------------------------------------------------------------ relexicalise


def test_relexicalise_fills_exact_values_in_english_and_chinese() -> None:
    f = _facts(order=ORDER)
    out, missing = relexicalise("Order [order.id] is [order.status]; tracking [order.tracking], ETA [order.eta].", f)
    assert out == "Order KF123456 is shipped; tracking 1Z4821930577, ETA 2025-03-14." and missing == []
    fz = _facts("zh", order=ORDER, products=[PRODUCT])
    out, _ = relexicalise("订单 [order.id] 由 [order.carrier] 配送，单号 [order.tracking]。[product1.title] 售价 "
                          "[product1.price]。", fz)
    assert out == "订单 KF123456 由 UPS 配送，单号 1Z4821930577。Aurora 蓝牙耳机 售价 59.90 USD。"


def test_missing_field_drops_its_clause_never_invents() -> None:
    paid = {**ORDER, "status": "paid", "carrier": None, "tracking_number": None, "eta": None}
    f = _facts(order=paid)
    out, missing = relexicalise("Order [order.id] is [order.status]; tracking [order.tracking].", f)
    assert out == "Order KF123456 is paid." and missing == ["[order.tracking]"]
    out, missing = relexicalise("Your order [order.id] is [order.status]. It ships with [order.carrier]. Thanks!", f)
    assert out == "Your order KF123456 is paid. Thanks!" and missing == ["[order.carrier]"]
    fz = _facts("zh", order=paid)
    out, missing = relexicalise("订单 [order.id] 当前已付款，物流单号 [order.tracking]。", fz)
    assert out == "订单 KF123456 当前已付款。" and missing == ["[order.tracking]"]
    out, missing = relexicalise("The [product2.title] costs [product2.price].", f)
    assert out == "" and len(missing) == 2  # nothing true left: the gateway's check answers with the template
    assert relexicalise("Sorry, tracking [order.tracking]", f)[0] == "Sorry."
    assert relexicalise("好的，单号 [order.tracking]", fz)[0] == "好的。"
    assert extract_facts(relexicalise("Tracking [order.tracking].", f)[0]) == []


def test_stream_relexer_equals_the_whole_reply() -> None:
    rng = random.Random(0)
    paid = {**ORDER, "status": "paid", "tracking_number": None}
    cases = [(s.delex, parse_facts(s.messages[0]["content"])) for s in generate(120, seed=4, split="heldout")]
    cases += [("Order [order.id] is [order.status]; tracking [order.tracking]. Anything else?", _facts(order=paid)),
              ("订单 [order.id]，单号 [order.tracking]。还有其他问题吗？", _facts("zh", order=paid)),
              ("Price 22.95 USD. [product1.title] ok", _facts(products=[PRODUCT])),
              ("Sorry, tracking [order.tracking]", _facts(order=paid)),
              ("Hi, [order.id]; [order.eta], [order.tracking]", _facts(order=paid))]
    for text, facts in cases:
        for _ in range(3):
            assert _stream(text, facts, rng) == relexicalise(text, facts)[0], text


def test_relexicalised_replies_are_graded_like_plain_ones() -> None:
    s = next(x for x in generate(60, seed=1, split="heldout") if x.intent == "shipping_info" and "[order" in x.delex)
    out, _ = relexicalise(s.delex, parse_facts(s.messages[0]["content"]))
    r = score_reply(s, out)
    assert r["answered"] and not r["unsupported"] and r["exact"]


# ------------------------------------------------------------------ tokenizer, serving


def test_placeholders_are_single_tokens_kept_by_decode(tiny_responder: Path) -> None:
    meta = json.loads((tiny_responder / "meta.json").read_text())
    assert meta[META_FLAG] is True and meta["placeholders"] == list(PLACEHOLDERS)
    tok = AutoTokenizer.from_pretrained(tiny_responder)
    for p in PLACEHOLDERS:
        ids = tok(f"x {p}，", add_special_tokens=False)["input_ids"]
        assert tok.convert_tokens_to_ids(p) in ids
    text = "Order [order.id] is [order.status]; 订单 [order.tracking]。"
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"], skip_special_tokens=True) == text
    s = next(x for x in generate(30, seed=2) if "[order.id]" in x.delex)
    ((ids, plen, fact),) = encode_all(tok, [s], delex=True)
    marked = [t for t, f in zip(ids[plen:], fact, strict=True) if f]
    assert tok.convert_tokens_to_ids("[order.id]") in marked


def _chain_model(src: Path, dst: Path, chain: list[str]) -> None:
    """A bigram machine: layers silenced (residual = token embedding), lm_head maps each chain token
    to the next, so greedy decoding writes `chain` after the prompt's final newline. Deterministic."""
    shutil.copytree(src, dst)
    model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(src)
    ids = [tok.convert_tokens_to_ids("\u010a")] + [tok.convert_tokens_to_ids(t) for t in chain] + [tok.eos_token_id]
    assert len(set(ids)) == len(ids) and tok.unk_token_id not in ids, ids
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "o_proj" in name or "down_proj" in name:
                p.zero_()
        emb, head = model.get_input_embeddings().weight, model.get_output_embeddings().weight
        head.zero_()
        for a, b in zip(ids, ids[1:], strict=False):
            head[b] += emb[a] / emb[a].norm() * 60
    model.save_pretrained(dst, safe_serialization=True)


def _wait_ready(client: TestClient) -> None:
    end = time.time() + 30
    while time.time() < end:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(client.get("/readyz").json())


def _serve(folder: Path, tmp: Path, messages: list[dict[str, str]]) -> tuple[str, str]:
    app = create_app(Settings(data_dir=tmp), LLMSettings(max_batch=2, max_queue=4, max_len=512), model=str(folder))
    req = {"messages": messages, "max_tokens": 12, "temperature": 0}
    with TestClient(app) as c:
        _wait_ready(c)
        r = c.post("/v1/chat/completions", json=req)
        assert r.status_code == 200, r.text
        whole = r.json()["choices"][0]["message"]["content"]
        with c.stream("POST", "/v1/chat/completions", json={**req, "stream": True}) as s:
            s.read()
            lines = [ln[6:] for ln in s.text.split("\n") if ln.startswith("data: ") and ln != "data: [DONE]"]
        streamed = "".join(json.loads(ln)["choices"][0]["delta"].get("content", "") for ln in lines)
    return whole, streamed


def test_serving_relexicalises_only_delexicalised_models(tiny_responder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "chain"
    _chain_model(tiny_responder, folder, ["[order.id]", ";", "\u0120", "[order.tracking]", "."])
    shipped = build_messages(ReplyContext(lang="en", intent="order_status", user_text="where is it", order=ORDER))
    paid = {**ORDER, "status": "paid", "carrier": None, "tracking_number": None, "eta": None}
    unshipped = build_messages(ReplyContext(lang="en", intent="order_status", user_text="where is it", order=paid))
    assert _serve(folder, tmp_path, shipped) == ("KF123456; 1Z4821930577.", "KF123456; 1Z4821930577.")
    assert _serve(folder, tmp_path, unshipped) == ("KF123456.", "KF123456.")  # no tracking: clause dropped
    meta = json.loads((folder / "meta.json").read_text())
    meta[META_FLAG] = False  # any other model: text passes through untouched
    (folder / "meta.json").write_text(json.dumps(meta))
    raw = "[order.id]; [order.tracking]."
    assert _serve(folder, tmp_path, shipped) == (raw, raw)


# ------------------------------------------------------------------ a quick-trained model


def test_quick_trained_replies_state_only_context_facts(tmp_path: Path) -> None:
    """The `ensure_default(quick=True)` recipe: relexicalised replies never state a fact (id, price,
    date, tracking number, number, brand) that is not in the held-out context."""
    from services.llm.responder.evaluate import evaluate_model, load

    out = T.ensure_default(Settings(data_dir=tmp_path), quick=True)
    model, tok = load(out)
    res = evaluate_model(model, tok, n=2 * len(INTENTS))
    assert res["delexicalised"] is True
    assert res["hallucination_rate"] <= 0.1, res["failures"]
