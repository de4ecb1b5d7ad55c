"""Gateway test harness: the gateway as a real uvicorn process on a free port, in front of the
real intent/dialog/retrieval services (`kefu serve <svc>`), each its own process. A service
whose app is not in the tree yet is replaced by the contract-shaped stand-in in
stub_services.py; the LLM is always a small real HTTP server we control (to make it
hallucinate, echo its prompt or stall on purpose)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import Proc, free_port, kefu_env, spawn, wait_ready

ROOT = Path(__file__).resolve().parents[2]


STUBS = Path(__file__).resolve().parent / "stub_services.py"
# KEFU_TEST_REDIS_CLUSTER (`python -m tests.redis_cluster -- pytest …`): a private Redis Cluster
REDIS_DB6 = os.environ.get("KEFU_TEST_REDIS_CLUSTER") or "redis://127.0.0.1:6379/6"


def real_service_exists(name: str) -> bool:
    return (ROOT / "services" / name / "app.py").exists()


def start_service(name: str, data_dir: Path, logs: Path, env_extra: dict[str, str]) -> Proc:
    port = free_port()
    env = kefu_env(data_dir, REDIS_URL=REDIS_DB6, **env_extra)
    if real_service_exists(name):
        cmd = [sys.executable, "-m", "kefu.cli", "serve", name, "--port", str(port)]
    else:
        cmd = [sys.executable, str(STUBS), name, str(port)]
    log = logs / f"{name}-{port}.log"
    p = Proc(name, port, spawn(cmd, env, log), log, cmd, env)
    wait_ready(p, "/readyz", 180)
    return p


def start_llm_stub(mode: str, logs: Path) -> Proc:
    port = free_port()
    cmd = [sys.executable, str(STUBS), "llm", str(port), mode]
    env = dict(os.environ)
    log = logs / f"llm-{mode}-{port}.log"
    p = Proc(f"llm-{mode}", port, spawn(cmd, env, log), log, cmd, env)
    wait_ready(p, "/v1/models", 60)
    return p


@dataclass
class Backend:
    data_dir: Path
    logs: Path
    prefix: str
    services: dict[str, Proc]
    internal_token: str

    def env(self) -> dict[str, str]:
        return {"KEFU_INTENT_URL": self.services["intent"].url, "KEFU_DIALOG_URL": self.services["dialog"].url,
                "KEFU_RETRIEVAL_URL": self.services["retrieval"].url, "KEFU_INTERNAL_TOKEN": self.internal_token}

    @property
    def internal_headers(self) -> dict[str, str]:
        return {"X-Kefu-Internal-Token": self.internal_token}


@dataclass
class Gateway:
    proc: Proc
    agent_key: str

    @property
    def url(self) -> str:
        return self.proc.url

    def client(self, **kw: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kw)

    def new_conversation(self, c: httpx.Client) -> tuple[str, dict[str, str]]:
        r = c.post("/v1/conversations", json={})
        assert r.status_code == 201, r.text
        body = r.json()
        return body["conversation_id"], {"Authorization": f"Bearer {body['token']}"}

    @property
    def agent_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.agent_key}"}

    def say(self, c: httpx.Client, cid: str, auth: dict[str, str], text: str) -> dict:
        r = c.post(f"/v1/conversations/{cid}/messages", json={"text": text}, headers=auth)
        assert r.status_code == 200, r.text
        return r.json()

    def say_verified(self, c: httpx.Client, cid: str, auth: dict[str, str], text: str, email: str) -> dict:
        """An order question the way a shopper gets it answered: the bot finds the order and asks
        for its email (without a fact of it), the shopper gives it, the answer follows."""
        first = self.say(c, cid, auth, text)
        if "email" not in first["reply"]["text"] and "邮箱" not in first["reply"]["text"]:
            return first  # already verified for this order in this conversation
        zh = first["reply"]["lang"] == "zh"
        return self.say(c, cid, auth, f"我的邮箱是 {email}" if zh else f"my email is {email}")


@pytest.fixture(scope="session")
def backend(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    base = tmp_path_factory.mktemp("gw")
    data = base / "data"
    shutil.copytree(built_data_dir, data, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
    logs = base / "logs"
    logs.mkdir()
    prefix = f"gwt-{uuid.uuid4().hex[:8]}:"
    # The services require an internal token, as under `kefu up`: every gateway test then also
    # proves the gateway sends it on each call.
    token = "gwt-internal-" + uuid.uuid4().hex
    extra = {"KEFU_REDIS_PREFIX": prefix, "KEFU_INTERNAL_TOKEN": token}
    auth = {"X-Kefu-Internal-Token": token}
    services: dict[str, Proc] = {}
    try:
        for name in ("intent", "dialog", "retrieval"):
            services[name] = start_service(name, data, logs, extra)
        # First calls load models lazily; warm them so turn budgets measure steady state.
        for _ in range(2):
            httpx.post(services["retrieval"].url + "/v1/search", json={"query": "running shoes", "k": 5},
                       headers=auth, timeout=60)
            httpx.post(services["intent"].url + "/v1/classify", json={"text": "where is my order"},
                       headers=auth, timeout=60)
        yield Backend(data, logs, prefix, services, token)
    finally:
        for p in services.values():
            p.stop()


GatewayFactory = Callable[..., Gateway]


@pytest.fixture(scope="session")
def gateway_factory(backend: Backend) -> Iterator[GatewayFactory]:
    started: list[Proc] = []

    def make(**env_extra: str) -> Gateway:
        port = free_port()
        key = "agent-" + uuid.uuid4().hex[:10]
        env = kefu_env(backend.data_dir, REDIS_URL=REDIS_DB6, KEFU_REDIS_PREFIX=backend.prefix,
                       KEFU_AGENT_KEY=key, KEFU_LLM_URL="off", KEFU_RATE_LIMITS="off", **backend.env(),
                       # generous budgets: seven test suites share two cores; degradation tests
                       # stop services outright instead of relying on a tight budget
                       KEFU_BUDGET_RETRIEVAL_S="8", KEFU_BUDGET_INTENT_S="5", KEFU_BUDGET_RESOLVE_S="5",
                       KEFU_BUDGET_RECORD_S="8")
        env.update(env_extra)
        cmd = [sys.executable, "-m", "kefu.cli", "serve", "gateway", "--port", str(port)]
        log = backend.logs / f"gateway-{port}.log"
        p = Proc("gateway", port, spawn(cmd, env, log), log, cmd, env)
        started.append(p)
        wait_ready(p, "/readyz", 60)
        return Gateway(p, key)

    yield make
    for p in started:
        p.stop()


@pytest.fixture(scope="session")
def gateway(gateway_factory: GatewayFactory) -> Gateway:
    """Template replies (KEFU_LLM_URL=off), rate limits off: the default gateway for most tests."""
    return gateway_factory()


@pytest.fixture
def llm_stub(backend: Backend) -> Iterator[Callable[[str], Proc]]:
    """Start a small real OpenAI-compatible server that answers the way a test needs."""
    started: list[Proc] = []

    def make(mode: str) -> Proc:
        p = start_llm_stub(mode, backend.logs)
        started.append(p)
        return p

    yield make
    for p in started:
        p.stop()
