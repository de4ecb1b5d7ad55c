"""Upstream mode: kefu's OpenAI API in front of another OpenAI-compatible server (vLLM, SGLang,
DeepSeek's API), with bounded timeouts, retries on transient failures and a circuit breaker so a
dead upstream is refused fast (503 + Retry-After) instead of tying up every gateway request.

With `delexicalised`, the upstream serves a kefu delexicalised model (its replies say
`[order.tracking]`, not the number): the proxy fills the placeholders from the request's FACTS,
whole replies and streams alike (clause by clause, as local serving does), so a responder moved
onto vLLM keeps copying facts exactly instead of showing placeholders to the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
from fastapi.responses import JSONResponse, StreamingResponse

from kefu.breaker import CircuitBreaker
from kefu.errors import APIError
from kefu.http import make_async_client
from services.llm.responder.delex import StreamRelexer, facts_of_messages, parse_facts, relexicalise

RETRY_STATUSES = {502, 503, 504}


def normalise_base(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


class Upstream:
    def __init__(self, base_url: str, api_key: str = "", timeout_s: float = 60.0, retries: int = 2,
                 breaker: CircuitBreaker | None = None, delexicalised: bool = False) -> None:
        self.base = normalise_base(base_url)
        self.delexicalised = delexicalised
        self.retries = retries
        self.breaker = breaker or CircuitBreaker("llm_upstream", failure_threshold=5, cooldown_s=15.0)
        self.client = make_async_client(self.base, timeout_s=timeout_s, connect_timeout_s=2.0, retries=0)
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def aclose(self) -> None:
        await self.client.aclose()

    def _refuse(self) -> APIError:
        return APIError(503, "upstream_unavailable", f"upstream {self.base} is failing; circuit open",
                        headers={"Retry-After": str(self.breaker.retry_after())})

    async def _send(self, method: str, path: str, body: dict[str, Any] | None, stream: bool) -> httpx.Response:
        """Send with retries on connect errors and 502/503/504; the breaker counts final failures."""
        if not self.breaker.allow():
            raise self._refuse()
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                req = self.client.build_request(method, path, json=body, headers=self.headers)
                resp = await self.client.send(req, stream=stream)
                if resp.status_code in RETRY_STATUSES and attempt < self.retries:
                    await resp.aclose()
                    await asyncio.sleep(0.2 * 2**attempt)
                    continue
                if resp.status_code >= 500:
                    self.breaker.failure()
                else:
                    self.breaker.success()
                return resp
            except httpx.TimeoutException as exc:
                last = exc
                break  # a timed-out generation is not retried: it would double the wait
            except httpx.TransportError as exc:
                last = exc
                if attempt < self.retries:
                    await asyncio.sleep(0.2 * 2**attempt)
        self.breaker.failure()
        if isinstance(last, httpx.TimeoutException):
            raise APIError(504, "upstream_timeout", f"upstream {self.base} did not answer in time")
        raise APIError(502, "upstream_unreachable", f"upstream {self.base} unreachable: {type(last).__name__}")

    @staticmethod
    async def _as_error(resp: httpx.Response) -> JSONResponse:
        data = await resp.aread()
        await resp.aclose()
        try:
            body = httpx.Response(200, content=data).json()
            if not isinstance(body, dict) or "error" not in body:
                raise ValueError
            err = body["error"]
            if not isinstance(err, dict):
                err = {"message": str(err)}
            err.setdefault("code", "upstream_error")
            body = {"error": {"code": str(err.get("code") or "upstream_error"), "message": str(err.get("message", ""))}}
        except ValueError:
            body = {"error": {"code": "upstream_error", "message": data[:500].decode("utf-8", "replace")}}
        headers = {"Retry-After": resp.headers["retry-after"]} if "retry-after" in resp.headers else None
        status = resp.status_code if resp.status_code < 500 else 502
        return JSONResponse(body, status_code=status, headers=headers)

    @staticmethod
    def _facts(path: str, body: dict[str, Any]) -> dict[str, str]:
        if path.endswith("/chat/completions"):
            return facts_of_messages(body.get("messages") or [])
        prompt = body.get("prompt")
        return parse_facts(prompt[0] if isinstance(prompt, list) and prompt and isinstance(prompt[0], str)
                           else prompt if isinstance(prompt, str) else "")

    @staticmethod
    def _relex_whole(data: Any, facts: dict[str, str]) -> None:
        for ch in (data.get("choices") or []) if isinstance(data, dict) else []:
            msg = ch.get("message")
            if isinstance(msg, dict) and isinstance(msg.get("content"), str):
                msg["content"] = relexicalise(msg["content"], facts)[0]
            elif isinstance(ch.get("text"), str):
                ch["text"] = relexicalise(ch["text"], facts)[0]

    @staticmethod
    def _relex_event(line: str, facts: dict[str, str], relexers: dict[int, StreamRelexer]) -> str:
        """One `data: {...}` line of a stream, with its text passed through the choice's relexer."""
        try:
            data = orjson.loads(line[5:])
        except orjson.JSONDecodeError:
            return line
        for ch in (data.get("choices") or []) if isinstance(data, dict) else []:
            relex = relexers.setdefault(int(ch.get("index") or 0), StreamRelexer(facts))
            delta = ch.get("delta")
            holder, key = (delta, "content") if isinstance(delta, dict) else (ch, "text")
            text = holder.get(key)
            out = relex.feed(text) if isinstance(text, str) and text else ""
            if ch.get("finish_reason"):
                out += relex.finish()
            if isinstance(text, str) or out:
                holder[key] = out
        return "data: " + orjson.dumps(data).decode()

    async def forward(self, path: str, body: dict[str, Any]) -> JSONResponse | StreamingResponse:
        stream = bool(body.get("stream"))
        facts = self._facts(path, body) if self.delexicalised else None
        resp = await self._send("POST", path, body, stream=stream)
        if resp.status_code != 200:
            return await self._as_error(resp)
        if not stream:
            data = resp.json()
            if facts is not None:
                self._relex_whole(data, facts)
            return JSONResponse(data)

        async def chunks() -> AsyncIterator[bytes]:
            if facts is None:
                async for chunk in resp.aiter_raw():
                    yield chunk
                return
            relexers: dict[int, StreamRelexer] = {}
            async for line in resp.aiter_lines():
                if line.startswith("data:") and line[5:].strip() != "[DONE]":
                    line = self._relex_event(line, facts, relexers)
                yield (line + "\n").encode()

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in chunks():
                    yield chunk
            except httpx.HTTPError as exc:
                self.breaker.failure()
                err = {"error": {"code": "upstream_error", "message": type(exc).__name__}}
                yield b"data: " + orjson.dumps(err) + b"\n\n"
                yield b"data: [DONE]\n\n"
            finally:
                await resp.aclose()

        return StreamingResponse(relay(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def models(self) -> JSONResponse:
        resp = await self._send("GET", "/models", None, stream=False)
        if resp.status_code != 200:
            return await self._as_error(resp)
        return JSONResponse(resp.json())

    async def ping(self) -> tuple[bool, str]:
        try:
            resp = await self.client.get("/models", headers=self.headers, timeout=2.0)
            return resp.status_code == 200, f"upstream /models answered {resp.status_code}"
        except httpx.HTTPError as exc:
            return False, f"upstream {self.base} unreachable: {type(exc).__name__}"
