"""Issue 19's requests against a real gateway in front of real services: a client's bad input is
a 4xx JSON answer and never counts against a dependency's breaker; no body, path or header from a
client turns into a 500, a plain-text body or leaked exception text."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from tests.conftest import free_port

HUGE = "99999999999999999999999"


def _err(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["error"]["code"] and body["error"]["message"]
    return body["error"]


def test_huge_paging_is_422_and_leaves_the_breaker_closed(gateway, backend) -> None:
    with gateway.client() as c:
        for _ in range(3):  # the exact request, three times
            _err(c.get(f"/v1/shop/products?offset={HUGE}"), 422)
        for q in (f"limit={HUGE}", "offset=-1", "limit=-5", "limit=0", "offset=1000001"):
            _err(c.get(f"/v1/shop/products?{q}"), 422)
        breakers = c.get("/v1/agent/stats", headers=gateway.agent_headers).json()["breakers"]
        assert breakers["retrieval"] == {"state": "closed", "failures": 0}, breakers
        cid, auth = gateway.new_conversation(c)
        turn = gateway.say(c, cid, auth, "running shoes")
        assert turn["products"] and "retrieval" not in turn["degraded"], turn
    # and retrieval itself answers 422, never its OverflowError 500
    retrieval = backend.services["retrieval"].url
    for q in (f"offset={HUGE}", f"limit={HUGE}", "offset=-1"):
        _err(httpx.get(f"{retrieval}/v1/products?{q}", headers=backend.internal_headers, timeout=30), 422)


def test_deep_json_on_shopper_posts_is_400(gateway) -> None:
    deep = "[" * 5000 + "]" * 5000
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        for path in ("/v1/conversations", f"/v1/conversations/{cid}/messages", f"/v1/conversations/{cid}/handoff"):
            for doc in (deep, '{"text": ' + deep + "}"):
                r = c.post(path, content=doc, headers={**auth, "content-type": "application/json"})
                assert _err(r, 400)["code"] == "invalid_json", path


def test_chunked_body_over_64k_is_413(gateway) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        r = c.post(f"/v1/conversations/{cid}/messages", content=chunks(),
                   headers={**auth, "content-type": "application/json"})
        assert "content-length" not in r.request.headers
        assert _err(r, 413)["code"] == "payload_too_large"


def test_static_null_byte_is_404_json(gateway) -> None:
    with gateway.client() as c:
        for path in ("/static/%00", "/static/a%00b.js", "/static/..%2f..%2fetc%2fpasswd"):
            _err(c.get(path), 404)


def test_agent_texts_nul_only_and_too_long_are_422(gateway) -> None:
    with gateway.client() as c:
        cid, auth = gateway.new_conversation(c)
        gateway.say(c, cid, auth, "hello")
        path = f"/v1/agent/conversations/{cid}/messages"
        h = gateway.agent_headers
        assert _err(c.post(path, json={"text": "\u0000\u0000"}, headers=h), 422)["code"] == "empty_text"
        assert _err(c.post(path, json={"text": "x" * 4001}, headers=h), 422)["code"] == "text_too_long"
        ok = c.post(path, json={"text": "a\u0000b" + "y" * 3990}, headers=h)
        assert ok.status_code == 201, ok.text
        texts = [m["text"] for m in c.get(f"/v1/conversations/{cid}/messages", headers=auth).json()["messages"]]
        assert "ab" + "y" * 3990 in texts and not any("\x00" in t for t in texts)


def test_unsafe_request_id_is_replaced(gateway) -> None:
    with gateway.client() as c:
        r = c.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
        assert "<" not in r.headers["x-request-id"] and len(r.headers["x-request-id"]) == 16
        assert c.get("/healthz", headers={"X-Request-ID": "trace-42.a_b"}).headers["x-request-id"] == "trace-42.a_b"


def test_search_down_says_unavailable_not_nothing_matched(gateway_factory) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens: connect errors, then an open breaker
    gw = gateway_factory(KEFU_RETRIEVAL_URL=dead)
    with gw.client() as c:
        r = c.get("/v1/shop/products")
        err = _err(r, 503)
        assert "Errno" not in r.text and "Connect" not in r.text and "127.0.0.1" not in r.text, err
        cid, auth = gw.new_conversation(c)
        for _ in range(4):  # past the breaker's threshold too
            turn = gw.say(c, cid, auth, "do you have running shoes?")
            assert "retrieval" in turn["degraded"], turn
            assert "briefly unavailable" in turn["reply"]["text"], turn["reply"]
            assert "couldn't find" not in turn["reply"]["text"]
        zh, zauth = gw.new_conversation(c)
        turn = gw.say(c, zh, zauth, "有没有跑鞋")
        assert "暂时不可用" in turn["reply"]["text"], turn["reply"]


def test_gets_are_rate_limited(gateway_factory) -> None:
    gw = gateway_factory(KEFU_RATE_LIMITS="on", KEFU_RATE_LIMIT_IP_PER_MIN="2", KEFU_RATE_LIMIT_NEW_CONV_PER_MIN="100",
                         KEFU_RATE_LIMIT_CONV_PER_MIN="100")
    with gw.client() as c:
        codes = [c.get("/v1/shop/config").status_code for _ in range(12)]
        assert codes[:8] == [200] * 8 and 429 in codes, codes
        r = c.get("/v1/shop/config")
        assert _err(r, 429)["code"] == "rate_limited" and int(r.headers["Retry-After"]) >= 1
