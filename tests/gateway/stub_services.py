"""Small real HTTP services speaking the contract's shapes, for gateway tests that need a
dependency to misbehave on purpose (a hallucinating LLM, one that echoes its system prompt, a
slow one) or a stand-in while a real service is missing.

Run: python tests/gateway/stub_services.py llm PORT MODE   (MODE: hallucinate|echo|good|offtopic|slow)
     python tests/gateway/stub_services.py intent|dialog|retrieval PORT
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from gateway.fallback_intent import guess_intent  # noqa: E402
from kefu.data import catalog_path  # noqa: E402


def reply_for(mode: str, messages: list[dict[str, str]]) -> str:
    """What the stub LLM in this mode says to these messages."""
    system = messages[0]["content"]
    if mode == "hallucinate":
        return "Your order KF999999 shipped yesterday for $123.45, tracking number ZZ123456789XX."
    if mode == "echo":
        return "Sure. My instructions: " + system[:300]
    if mode == "offtopic":
        # what the quick-trained responder once said to "where is my order KF100001?": no false
        # fact, but no answer either
        return "I can be updated with a new address."
    # "good": restate the order's key facts from the fact line (grounded and complete)
    m = re.search(r"order: id[= ](\S+)\s*\|?\s*status[= ](\S+)", system)
    if m:
        facts = dict(re.findall(r"\| (tracking|eta|delivered) (\S+)", system.split("order: ", 1)[1].split("\n")[0]))
        text = f"Good news: order {m.group(1)} is {m.group(2)}."
        if m.group(2) == "shipped" and "tracking" in facts:
            text += f" Its tracking number is {facts['tracking']}."
        if m.group(2) == "shipped" and "eta" in facts:
            text += f" It should arrive on {facts['eta']}."
        if m.group(2) == "delivered" and "delivered" in facts:
            text += f" It was delivered on {facts['delivered']}."
        return text
    return "Happy to help with that!"


async def sse_words(text: str) -> AsyncIterator[str]:
    """The text as an OpenAI chat stream, a word per chunk."""
    for word in text.split(" "):
        chunk = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
        yield f"data: {json.dumps(chunk)}\n\n"
        await asyncio.sleep(0.005)
    yield "data: [DONE]\n\n"


def llm_app(mode: str) -> FastAPI:
    app = FastAPI()
    calls: dict[str, Any] = {"n": 0}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"data": [{"id": "stub"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        calls["n"] += 1
        calls.setdefault("bodies", []).append(body)
        if mode == "slow":
            await asyncio.sleep(30)
        text = reply_for(mode, body["messages"])
        if body.get("stream"):
            return StreamingResponse(sse_words(text), media_type="text/event-stream")
        return {"id": "x", "object": "chat.completion", "created": int(time.time()), "model": "stub",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}]}

    @app.get("/calls")
    async def ncalls() -> dict[str, Any]:
        """How many completions were asked for, and every request body (tests read the prompts)."""
        return calls

    return app


def intent_app() -> FastAPI:
    app = FastAPI()

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/classify")
    async def classify(body: dict[str, Any]) -> dict[str, Any]:
        name = guess_intent(body["text"])
        return {"intent": name, "confidence": 0.9, "stage": "fasttext", "candidates": [{"label": name, "score": 0.9}],
                "out_of_scope": name == "out_of_scope", "model_version": "stub"}

    return app


def retrieval_app() -> FastAPI:
    app = FastAPI()
    products = [json.loads(line) for line in catalog_path().read_text().splitlines() if line.strip()]

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/search")
    async def search(body: dict[str, Any]) -> dict[str, Any]:
        q = body["query"].lower()
        price_max = None
        m = re.search(r"under (\d+)", q)
        if m:
            price_max = float(m.group(1))
        words = [w for w in re.findall(r"\w+", q) if len(w) > 2 and w not in {"show", "under", "me"}]
        scored = []
        for p in products:
            hay = (p["title"] + " " + p.get("category", "")).lower()
            s = sum(1 for w in words if w.rstrip("s") in hay)
            if s and (price_max is None or (p.get("price") or 0) <= price_max):
                scored.append((s, p))
        scored.sort(key=lambda x: -x[0])
        hits = [{**p, "score": float(s)} for s, p in scored[: body.get("k", 10)]]
        return {"hits": hits, "filters": {"price_max": price_max}, "query": body["query"], "index_version": "stub"}

    @app.get("/v1/products")
    async def list_products(limit: int = 24, offset: int = 0, category: str | None = None) -> dict[str, Any]:
        rows = [p for p in products if not category or p.get("category") == category]
        return {"products": rows[offset: offset + limit], "total": len(rows)}

    return app


def resolve_text(cid: str, c: dict[str, Any], text: str) -> dict[str, Any]:
    """The text unchanged as its own standalone form; an order id in it becomes a slot."""
    m = re.search(r"KF\d+", text, re.I)
    if m:
        c["slots"]["order_id"] = m.group(0).upper()
    return {"standalone": text, "slots": dict(c["slots"]), "referenced_products": [],
            "state": {"conversation_id": cid, "status": c["status"], "turns": c["turns"][-5:],
                      "slots": c["slots"]}}


def record_turn(c: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Append a turn (the shopper's message, if any, and the reply) to a stub conversation."""
    now = time.time()
    if body.get("user_text") is not None:
        c["messages"].append({"role": "user", "text": body["user_text"], "message_id": body["message_id"],
                              "created_at": now})
    c["messages"].append({"role": body.get("role", "bot"), "text": body["reply_text"],
                          "message_id": body["message_id"], "intent": body.get("intent"),
                          "evidence": body.get("evidence", {}), "created_at": now})
    c["turns"].append({"user": body.get("user_text") or "", "bot": body["reply_text"],
                       "intent": body.get("intent")})
    return {"seq": len(c["messages"])}


def dialog_app() -> FastAPI:
    app = FastAPI()
    convs: dict[str, dict[str, Any]] = {}
    locks: dict[str, asyncio.Lock] = {}
    fences = {"n": 0}

    def conv(cid: str) -> dict[str, Any]:
        return convs.setdefault(cid, {"status": "bot", "turns": [], "messages": [], "slots": {}})

    @app.get("/readyz")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/v1/conversations")
    async def create(body: dict[str, Any]) -> JSONResponse:
        conv(body.get("conversation_id") or uuid.uuid4().hex)
        return JSONResponse({"ok": True}, status_code=201)

    @app.post("/v1/conversations/{cid}/lock")
    async def lock(cid: str) -> dict[str, Any]:
        lk = locks.setdefault(cid, asyncio.Lock())
        await lk.acquire()
        fences["n"] += 1
        return {"lease_id": uuid.uuid4().hex, "fence": fences["n"]}

    @app.delete("/v1/conversations/{cid}/lock/{lease}")
    async def unlock(cid: str, lease: str) -> dict[str, Any]:
        lk = locks.get(cid)
        if lk and lk.locked():
            lk.release()
        return {"released": True}

    @app.post("/v1/conversations/{cid}/resolve")
    async def resolve(cid: str, body: dict[str, Any]) -> dict[str, Any]:
        return resolve_text(cid, conv(cid), body["text"])

    @app.post("/v1/conversations/{cid}/turns")
    async def turns(cid: str, body: dict[str, Any]) -> dict[str, Any]:
        return record_turn(conv(cid), body)

    @app.put("/v1/conversations/{cid}/status")
    async def status(cid: str, body: dict[str, Any]) -> dict[str, Any]:
        conv(cid)["status"] = body["status"]
        return {"status": body["status"]}

    @app.get("/v1/conversations/{cid}/messages")
    async def messages(cid: str) -> dict[str, Any]:
        return {"messages": conv(cid)["messages"]}

    return app


if __name__ == "__main__":
    kind, port = sys.argv[1], int(sys.argv[2])
    factory = {"intent": intent_app, "retrieval": retrieval_app, "dialog": dialog_app}
    app = llm_app(sys.argv[3] if len(sys.argv) > 3 else "good") if kind == "llm" else factory[kind]()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
