"""One shopper turn is one trace across processes (issue 17, item 4).

The gateway runs in this process with an `InMemorySpanExporter`; intent, dialog and retrieval
run as their own `kefu serve` processes exporting OTLP/HTTP to a small collector in this test.
The turn's trace must hold a span per pipeline step, the gateway's client call to each service
carrying `traceparent`, each service's server span parented on that call, and Redis spans.
With tracing off (the default) no service sends or expects a trace header."""

from __future__ import annotations

import shutil
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kefu import tracing
from kefu.lean_http import LeanClient
from tests.conftest import Proc, free_port, kefu_env, spawn, wait_ready

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("turn", "turn.lock_resolve", "turn.understand", "turn.decide", "turn.act", "turn.phrase",
         "turn.record", "turn.publish", "turn.release")


@dataclass
class RemoteSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    duration_ms: float


@dataclass
class Collector:
    """An OTLP/HTTP traces endpoint (protobuf bodies, as the SDK's exporter sends them)."""

    port: int
    spans: list[RemoteSpan] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, body: bytes) -> None:
        req = ExportTraceServiceRequest()
        req.ParseFromString(body)
        for rs in req.resource_spans:
            service = next((a.value.string_value for a in rs.resource.attributes if a.key == "service.name"), "")
            for ss in rs.scope_spans:
                for s in ss.spans:
                    self.spans.append(RemoteSpan(service, s.name, s.trace_id.hex(), s.span_id.hex(),
                                                 s.parent_span_id.hex(),
                                                 (s.end_time_unix_nano - s.start_time_unix_nano) / 1e6))

    def wait_for(self, trace_id: str, services: set[str], timeout_s: float = 20) -> list[RemoteSpan]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            got = [s for s in self.spans if s.trace_id == trace_id]
            if services <= {s.service for s in got}:
                return got
            time.sleep(0.2)
        return [s for s in self.spans if s.trace_id == trace_id]


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    col = Collector(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/v1/traces":
                col.add(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", col.port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield col
    server.shutdown()


@dataclass
class Traced:
    data: Path
    env: dict[str, str]
    services: dict[str, Proc]


@pytest.fixture(scope="module")
def traced_services(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory,
                    collector: Collector) -> Iterator[Traced]:
    base = tmp_path_factory.mktemp("traced")
    data = base / "data"
    shutil.copytree(built_data_dir, data, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
    common = {"KEFU_REDIS_PREFIX": f"trace-{uuid.uuid4().hex[:8]}:",
              "KEFU_INTERNAL_TOKEN": "trace-internal-" + uuid.uuid4().hex, "KEFU_RATE_LIMITS": "off"}
    services: dict[str, Proc] = {}
    try:
        for name in ("intent", "dialog", "retrieval"):
            port = free_port()
            env = kefu_env(data, KEFU_OTEL_ENDPOINT=collector.url, OTEL_BSP_SCHEDULE_DELAY="100", **common)
            cmd = [sys.executable, "-m", "kefu.cli", "serve", name, "--port", str(port)]
            services[name] = Proc(name, port, spawn(cmd, env, base / f"{name}.log"), base / f"{name}.log", cmd, env)
        for p in services.values():
            wait_ready(p, "/readyz", 180)
        env = {**common, "KEFU_DATA_DIR": str(data), "KEFU_LLM_URL": "off",
               **{f"KEFU_{n.upper()}_URL": p.url for n, p in services.items()}}
        yield Traced(data, env, services)
    finally:
        for p in services.values():
            p.stop()


@pytest.fixture
def gateway_exporter(traced_services: Traced, monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """The gateway's settings from this test's environment, tracing into memory; both undone after."""
    from gateway.config import get_gateway_settings
    from kefu.settings import get_settings

    for k, v in traced_services.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    get_gateway_settings.cache_clear()
    exporter = InMemorySpanExporter()
    tracing.configure("gateway", exporter=exporter)
    try:
        yield exporter
    finally:
        tracing.shutdown()
        monkeypatch.undo()
        get_settings.cache_clear()
        get_gateway_settings.cache_clear()


async def _one_turn(text: str) -> dict:
    from gateway.app import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw",
                                     timeout=60) as c:
            r = await c.post("/v1/conversations", json={})
            assert r.status_code == 201, r.text
            body = r.json()
            auth = {"Authorization": f"Bearer {body['token']}"}
            r = await c.post(f"/v1/conversations/{body['conversation_id']}/messages",
                             json={"text": text}, headers=auth)
            assert r.status_code == 200, r.text
            return r.json()


async def test_a_turn_is_one_trace_from_gateway_through_every_service(
        gateway_exporter: InMemorySpanExporter, collector: Collector) -> None:
    out = await _one_turn("do you have running shoes under $100?")
    assert out["reply"]["text"]
    local = gateway_exporter.get_finished_spans()
    server = [s for s in local if s.name == "POST /v1/conversations/{cid}/messages"
              and s.kind == tracing.SpanKind.SERVER]
    assert len(server) == 1, sorted({(s.name, str(s.kind)) for s in local})
    trace_id = server[0].context.trace_id
    turn = [s for s in local if s.context.trace_id == trace_id]
    names = {s.name for s in turn}
    assert set(STEPS) <= names, sorted(names)
    root_turn = next(s for s in turn if s.name == "turn")
    for step in STEPS[1:]:
        s = next(x for x in turn if x.name == step)
        assert s.parent is not None and s.parent.span_id == root_turn.context.span_id, step
        assert s.end_time >= s.start_time  # each step's own time is in the trace
    assert root_turn.attributes["kefu.intent"], root_turn.attributes
    clients = {s.name: s for s in turn if s.kind == tracing.SpanKind.CLIENT}
    for dep in ("intent", "dialog", "retrieval"):
        assert any(n.endswith(f" {dep}") for n in clients), sorted(clients)
    assert any(s.attributes.get("db.system") == "redis" or s.attributes.get("db.system.name") == "redis"
               for s in turn), "no Redis span in the turn"

    remote = collector.wait_for(f"{trace_id:032x}", {"kefu-intent", "kefu-dialog", "kefu-retrieval"})
    assert {"kefu-intent", "kefu-dialog", "kefu-retrieval"} <= {s.service for s in remote}, remote
    client_ids = {f"{s.context.span_id:016x}": s for s in clients.values()}
    for svc_span in (s for s in remote if s.parent_id in client_ids):
        caller = client_ids[svc_span.parent_id]
        assert caller.name.endswith(svc_span.service.removeprefix("kefu-")), (caller.name, svc_span)
    served = {s.service for s in remote if s.parent_id in client_ids}
    assert served == {"kefu-intent", "kefu-dialog", "kefu-retrieval"}, remote
    # Inside a service its own work is a child of its server span (Redis in dialog, here).
    dialog_ids = {s.span_id for s in remote if s.service == "kefu-dialog"}
    assert any(s.parent_id in dialog_ids for s in remote if s.service == "kefu-dialog")


async def test_off_by_default_no_trace_header_is_sent() -> None:
    assert not tracing.enabled()
    assert tracing.configure("x", "") is False
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.extend(k.lower() for k in self.headers)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        c = LeanClient(f"http://127.0.0.1:{server.server_address[1]}", name="probe")
        try:
            assert (await c.request("POST", "/x", json={})).status_code == 200
        finally:
            await c.aclose()
    finally:
        server.shutdown()
    assert "traceparent" not in seen and "content-length" in seen
