"""HTTP clients for the four dependencies: one pooled httpx.AsyncClient each (no per-request
connection set-up), a time budget per call and a circuit breaker per dependency.

Any failure surfaces as `DependencyDown(dep)`, which the orchestrator turns into a degraded
but answered turn; 4xx answers that are about the request (not the service) are `DependencyError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
from prometheus_client import Counter, Histogram

from gateway.config import GatewaySettings
from kefu import service_auth
from kefu.breaker import CircuitBreaker
from kefu.contracts import (
    MAX_LOCK_WAIT_MS,
    ClassifyResponse,
    LockResponse,
    RecordTurnRequest,
    ResolveResponse,
    SearchRequest,
    SearchResponse,
)
from kefu.http import make_async_client
from kefu.lean_http import LeanClient

log = logging.getLogger("kefu.gateway.clients")

DEP_CALLS = Counter("kefu_gateway_dependency_calls_total", "calls to dependencies", ["dep", "outcome"])
DEP_LATENCY = Histogram(
    "kefu_gateway_dependency_seconds", "dependency call latency", ["dep"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class DependencyDown(Exception):
    """The dependency failed, timed out, or its breaker is open."""

    def __init__(self, dep: str, reason: str) -> None:
        super().__init__(f"{dep}: {reason}")
        self.dep = dep
        self.reason = reason


class DependencyError(Exception):
    """The dependency answered with a 4xx about this request (not an outage)."""

    def __init__(self, dep: str, status: int, body: Any) -> None:
        super().__init__(f"{dep} answered {status}")
        self.dep = dep
        self.status = status
        self.body = body


def _sse_piece(line: str) -> str | None:
    """The content delta one server-sent-events line carries: "" when it carries none (comments,
    other fields, unparsable chunks), None at the `[DONE]` sentinel."""
    if not line.startswith("data:"):
        return ""
    payload = line[5:].strip()
    if payload == "[DONE]":
        return None
    try:
        chunk = json.loads(payload)
        delta = chunk["choices"][0].get("delta") or {}
        piece: str = delta.get("content") or chunk["choices"][0].get("text") or ""
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return piece


def llm_base(url: str) -> str:
    """Accept the OpenAI base URL with or without the /v1 suffix."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def _service_client(name: str, url: str, timeout_s: float, headers: dict[str, str]) -> Any:
    """The lean keep-alive client for plain-HTTP services (a third of the gateway's CPU per turn
    was httpx); httpx for anything else. Time budgets come from the caller's wait_for either way."""
    if url.startswith("http://"):
        return LeanClient(url, headers=headers, name=name)
    return make_async_client(url, timeout_s=timeout_s, retries=0, headers=headers)


class Dependencies:
    """The gateway's outbound side; created once per app (lifespan) and closed on shutdown."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        t = settings.http_timeout_s
        auth = service_auth.headers(service_auth.internal_token(settings))
        self.http: dict[str, Any] = {
            "intent": _service_client("intent", settings.intent_url, t, auth),
            "dialog": _service_client("dialog", settings.dialog_url, max(t, settings.budget_lock_s + 1), auth),
            "retrieval": _service_client("retrieval", settings.retrieval_url, t, auth),
        }
        if settings.llm_enabled:  # kefu's llm, or vLLM/SGLang inside the deployment
            self.http["llm"] = make_async_client(
                llm_base(settings.llm_url), timeout_s=settings.budget_llm_total_s + 5, retries=0,
                headers=service_auth.llm_headers(settings))
        self.breakers = {
            dep: CircuitBreaker(dep, settings.breaker_failures, settings.breaker_cooldown_s)
            for dep in ("intent", "dialog", "retrieval", "llm")
        }

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.http.values()), return_exceptions=True)

    # ------------------------------------------------------------------ plumbing
    async def _call(self, dep: str, method: str, path: str, budget: float, *,
                    json_body: Any = None, params: dict[str, Any] | None = None,
                    trip_on_timeout: bool = True) -> Any:
        client = self.http.get(dep)
        breaker = self.breakers[dep]
        if client is None:
            raise DependencyDown(dep, "disabled")
        if not breaker.allow():
            DEP_CALLS.labels(dep, "breaker_open").inc()
            raise DependencyDown(dep, "circuit open")
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        try:
            resp = await asyncio.wait_for(
                client.request(method, path, json=json_body, params=params), timeout=budget)
        except TimeoutError as exc:
            if trip_on_timeout:
                breaker.failure()
            else:
                breaker._probe_in_flight = False
            DEP_CALLS.labels(dep, "timeout").inc()
            raise DependencyDown(dep, f"no answer within {budget:.2f}s") from exc
        except (httpx.HTTPError, OSError) as exc:
            breaker.failure()
            DEP_CALLS.labels(dep, "error").inc()
            raise DependencyDown(dep, f"{type(exc).__name__}: {exc}") from exc
        finally:
            DEP_LATENCY.labels(dep).observe(loop.time() - t0)
        if resp.status_code >= 500:
            breaker.failure()
            DEP_CALLS.labels(dep, "5xx").inc()
            raise DependencyDown(dep, f"HTTP {resp.status_code}")
        breaker.success()
        if resp.status_code >= 400:
            DEP_CALLS.labels(dep, "4xx").inc()
            try:
                body = resp.json()
            except ValueError:
                body = resp.text
            raise DependencyError(dep, resp.status_code, body)
        DEP_CALLS.labels(dep, "ok").inc()
        if not resp.content:
            return None
        try:
            return resp.json()
        except ValueError as exc:
            breaker.failure()
            raise DependencyDown(dep, "answer is not JSON") from exc

    # ------------------------------------------------------------------ intent
    async def classify(self, text: str) -> ClassifyResponse:
        data = await self._call("intent", "POST", "/v1/classify", self.settings.budget_intent_s,
                                json_body={"text": text, "k": 5})
        return ClassifyResponse.model_validate(data)

    # ------------------------------------------------------------------ retrieval
    async def search(self, req: SearchRequest) -> SearchResponse:
        data = await self._call("retrieval", "POST", "/v1/search", self.settings.budget_retrieval_s,
                                json_body=req.model_dump(exclude_none=True))
        return SearchResponse.model_validate(data)

    async def list_products(self, params: dict[str, Any]) -> Any:
        return await self._call("retrieval", "GET", "/v1/products", self.settings.budget_retrieval_s,
                                params=params)

    async def get_products(self, ids: list[str]) -> list[dict[str, Any]]:
        """Several products by id in one request, in the order asked; unknown ids are left out."""
        data = await self._call("retrieval", "GET", "/v1/products", self.settings.budget_retrieval_s,
                                params={"ids": ",".join(ids), "limit": max(1, min(len(ids), 500))})
        return list(data.get("items") or [])

    async def kb_search(self, question: str, lang: str, intent: str | None, k: int) -> list[dict[str, Any]]:
        """The knowledge base's passages for a question (empty: it has no answer)."""
        data = await self._call("retrieval", "POST", "/v1/kb/search", self.settings.budget_retrieval_s,
                                json_body={"question": question, "lang": lang, "intent": intent, "k": k})
        return list((data or {}).get("passages") or [])

    async def kb(self, method: str, path: str = "", body: Any = None) -> Any:
        """The knowledge base's documents (the agents' API passes these through)."""
        return await self._call("retrieval", method, "/v1/kb/documents" + path,
                                max(self.settings.budget_retrieval_s, 60.0), json_body=body)

    async def get_product(self, product_id: str) -> Any:
        return await self._call("retrieval", "GET", f"/v1/products/{quote(product_id, safe='')}",
                                self.settings.budget_retrieval_s)

    # ------------------------------------------------------------------ dialog
    def _lock_wait_ms(self) -> int:
        """The lock budget, within what dialog accepts (a larger KEFU_BUDGET_LOCK_S would get 422)."""
        return min(int(self.settings.budget_lock_s * 1000), MAX_LOCK_WAIT_MS)

    async def lock(self, cid: str) -> LockResponse:
        wait = self.settings.budget_lock_s
        data = await self._call("dialog", "POST", f"/v1/conversations/{cid}/lock", wait + 0.5,
                                json_body={"wait_ms": self._lock_wait_ms(), "ttl_ms": 30000},
                                trip_on_timeout=False)
        return LockResponse.model_validate(data)

    async def unlock(self, cid: str, lease_id: str) -> None:
        await self._call("dialog", "DELETE", f"/v1/conversations/{cid}/lock/{lease_id}",
                         self.settings.budget_record_s)

    async def create_conversation(self, cid: str, lang: str, *, fresh: bool = False) -> Any:
        """fresh: the gateway just generated the id, so dialog need not look for its history."""
        body: dict[str, Any] = {"conversation_id": cid, "lang": lang}
        if fresh:
            body["fresh"] = True
        return await self._call("dialog", "POST", "/v1/conversations", self.settings.budget_record_s,
                                json_body=body)

    async def lock_resolve(self, cid: str, text: str, lang: str) -> tuple[ResolveResponse, LockResponse]:
        """One call for the turn's start: queue for the conversation lock, then resolve under it
        (creating the conversation if dialog lost or never saw it). A dialog without the fused
        call answers without a lease: then lock first and resolve again, under the lock."""
        wait = self.settings.budget_lock_s
        data = await self._call("dialog", "POST", f"/v1/conversations/{cid}/resolve",
                                wait + self.settings.budget_resolve_s,
                                json_body={"text": text, "create_lang": lang,
                                           "lock": {"wait_ms": self._lock_wait_ms(), "ttl_ms": 30000}},
                                trip_on_timeout=False)
        if not isinstance(data, dict) or data.get("lease_id") is None:
            lease = await self.lock(cid)
            return await self.resolve(cid, text), lease
        return ResolveResponse.model_validate(data), LockResponse(lease_id=data["lease_id"], fence=data["fence"])

    async def resolve(self, cid: str, text: str) -> ResolveResponse:
        data = await self._call("dialog", "POST", f"/v1/conversations/{cid}/resolve",
                                self.settings.budget_resolve_s, json_body={"text": text})
        return ResolveResponse.model_validate(data)

    async def record(self, cid: str, req: RecordTurnRequest,
                     product_details: list[dict[str, Any]] | None = None, release_lease: str | None = None) -> Any:
        """product_details (id, title, title_zh, price) let dialog resolve "the second one" later;
        release_lease frees the conversation lock in the same call (the answer says `released`)."""
        body = req.model_dump(mode="json")
        if product_details:
            body["product_details"] = product_details
        if release_lease:
            body["release_lease"] = release_lease
        return await self._call("dialog", "POST", f"/v1/conversations/{cid}/turns",
                                self.settings.budget_record_s, json_body=body)

    async def set_status(self, cid: str, status: str) -> Any:
        return await self._call("dialog", "PUT", f"/v1/conversations/{cid}/status",
                                self.settings.budget_record_s, json_body={"status": status})

    async def transcript(self, cid: str) -> Any:
        return await self._call("dialog", "GET", f"/v1/conversations/{cid}/messages",
                                self.settings.budget_record_s)

    async def state(self, cid: str) -> Any:
        return await self._call("dialog", "GET", f"/v1/conversations/{cid}",
                                self.settings.budget_resolve_s)

    # ------------------------------------------------------------------ generation
    def _chat_body(self, messages: list[dict[str, str]], stream: bool) -> dict[str, Any]:
        return {"model": self.settings.llm_model, "messages": messages, "temperature": 0,
                "max_tokens": self.settings.llm_max_tokens, "stream": stream}

    async def chat(self, messages: list[dict[str, str]]) -> str:
        data = await self._call("llm", "POST", "/chat/completions", self.settings.budget_llm_total_s,
                                json_body=self._chat_body(messages, False))
        try:
            return str(data["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            self.breakers["llm"].failure()
            raise DependencyDown("llm", "malformed chat completion") from exc

    async def chat_stream(self, messages: list[dict[str, str]]) -> AsyncIterator[str]:
        """Yield content deltas; the first must arrive within the first-token budget."""
        client = self._llm_client()
        breaker = self.breakers["llm"]
        s = self.settings
        loop = asyncio.get_running_loop()
        deadline = loop.time() + s.budget_llm_total_s
        resp = await self._open_stream(client, messages)
        try:
            if resp.status_code >= 400:
                breaker.failure()
                raise DependencyDown("llm", f"HTTP {resp.status_code}")
            lines = resp.aiter_lines()
            first = True
            while True:
                budget = s.budget_llm_first_token_s if first else deadline - loop.time()
                if budget <= 0:
                    raise DependencyDown("llm", "total budget exhausted")
                line = await self._next_line(lines, budget)
                piece = None if line is None else _sse_piece(line)
                if piece is None:
                    break
                if piece:
                    first = False
                    yield piece
            breaker.success()
        finally:
            await resp.aclose()

    def _llm_client(self) -> httpx.AsyncClient:
        """The llm client, unless generation is disabled or its breaker is open."""
        client = self.http.get("llm")
        if client is None:
            raise DependencyDown("llm", "disabled")
        if not self.breakers["llm"].allow():
            raise DependencyDown("llm", "circuit open")
        return client

    async def _open_stream(self, client: httpx.AsyncClient, messages: list[dict[str, str]]) -> httpx.Response:
        """Send the streaming request; its headers must come within the first-token budget."""
        breaker = self.breakers["llm"]
        req = client.build_request("POST", "/chat/completions", json=self._chat_body(messages, True))
        try:
            return await asyncio.wait_for(client.send(req, stream=True),
                                          timeout=self.settings.budget_llm_first_token_s)
        except TimeoutError as exc:
            breaker.failure()
            raise DependencyDown("llm", "no answer within first-token budget") from exc
        except (httpx.HTTPError, OSError) as exc:
            breaker.failure()
            raise DependencyDown("llm", f"{type(exc).__name__}: {exc}") from exc

    async def _next_line(self, lines: AsyncIterator[str], budget: float) -> str | None:
        """The stream's next line within `budget` seconds; None when the stream ended."""
        breaker = self.breakers["llm"]
        try:
            return await asyncio.wait_for(anext(lines), timeout=budget)
        except StopAsyncIteration:
            return None
        except TimeoutError as exc:
            breaker.failure()
            raise DependencyDown("llm", "stream stalled") from exc
        except (httpx.HTTPError, OSError) as exc:
            breaker.failure()
            raise DependencyDown("llm", f"{type(exc).__name__}: {exc}") from exc
