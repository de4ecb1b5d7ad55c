"""HTTP behaviour of the intent service, served by a real uvicorn on a free port."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from kefu.settings import Settings
from services.intent.app import create_app
from tests.conftest import free_port


class _Server:
    def __init__(self, data_dir: Path) -> None:
        settings = Settings(data_dir=data_dir, llm_url="off")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("intent service did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def server(intent_data_dir: Path) -> Iterator[_Server]:
    with _Server(intent_data_dir) as srv:
        # the model loads in the lifespan; wait for readiness
        for _ in range(300):
            if httpx.get(srv.url + "/readyz").status_code == 200:
                break
            time.sleep(0.1)
        yield srv


def test_ready_reports_version(server: _Server) -> None:
    r = httpx.get(server.url + "/readyz")
    assert r.status_code == 200
    assert r.json()["checks"]["model"]["model_version"] in ("v1", "v2")


def test_classify_contract(server: _Server) -> None:
    r = httpx.post(server.url + "/v1/classify", json={"text": "I want to cancel my order KF100002", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["intent"] == "cancel_order"
    assert body["stage"] in ("fasttext", "rerank")
    assert 0 < body["confidence"] <= 1
    assert len(body["candidates"]) == 3 and body["candidates"][0]["label"] == "cancel_order"
    assert body["out_of_scope"] is False and body["model_version"]


def test_batch(server: _Server) -> None:
    r = httpx.post(server.url + "/v1/classify/batch", json={"texts": ["hi!", "你好", "where is my parcel"]})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["intent"] for x in results][:2] == ["greeting", "greeting"]
    assert results[2]["intent"] == "order_status"


@pytest.mark.parametrize("payload", [{"text": ""}, {"text": "   \n\t "}, {}, {"text": 5}, {"text": "hi", "k": 0},
                                     {"texts": []}])
def test_bad_input_is_422_json(server: _Server, payload: dict) -> None:
    path = "/v1/classify/batch" if "texts" in payload else "/v1/classify"
    r = httpx.post(server.url + path, json=payload)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_request"


def test_malformed_json_is_422(server: _Server) -> None:
    r = httpx.post(server.url + "/v1/classify", content=b'{"text": ', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "error" in r.json()


@pytest.mark.parametrize("text", [
    "where is my order " * 6000,  # ~108 KB
    "\x00\x01where\x07 is\u200b my\x1b[31m order\ufeff",
    "😀🙏📦❓ refund 👍🏽 ‍👩‍👩‍👧",
    "hello 你好 привет مرحبا こんにちは 안녕하세요 KF100001",
    "\ud7ff\ue000\U0010ffff",
])
def test_hostile_text_gets_an_answer(server: _Server, text: str) -> None:
    r = httpx.post(server.url + "/v1/classify", json={"text": text}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["intent"]


async def test_reload_while_hammering_drops_nothing(server: _Server, intent_data_dir: Path) -> None:
    v2 = intent_data_dir / "models" / "intent" / "v2"
    stop = asyncio.Event()
    statuses: list[int] = []
    versions: set[str] = set()

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        async def hammer() -> None:
            texts = ["where is my order", "cancel it", "退款到账了吗", "hello"]
            i = 0
            while not stop.is_set():
                r = await client.post("/v1/classify", json={"text": texts[i % 4]})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    versions.add(r.json()["model_version"])
                i += 1

        workers = [asyncio.create_task(hammer()) for _ in range(8)]
        await asyncio.sleep(0.3)
        r = await client.post("/admin/reload", json={"model_dir": str(v2)})
        assert r.status_code == 200, r.text
        assert r.json()["model_version"] == "v2"
        await asyncio.sleep(0.3)
        r = await client.post("/admin/reload", json={"model_dir": str(v2.parent / "v1")})
        assert r.status_code == 200 and r.json()["model_version"] == "v1"
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.gather(*workers)
    assert statuses and set(statuses) == {200}
    assert {"v1", "v2"} <= versions


def test_reload_missing_model_is_404_and_keeps_serving(server: _Server, tmp_path: Path) -> None:
    r = httpx.post(server.url + "/admin/reload", json={"model_dir": str(tmp_path / "nothing")})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert httpx.post(server.url + "/v1/classify", json={"text": "hi"}).status_code == 200


def test_metrics_count_stages(server: _Server) -> None:
    httpx.post(server.url + "/v1/classify", json={"text": "hello"})
    text = httpx.get(server.url + "/metrics").text
    assert "kefu_intent_predictions_total" in text


def test_readyz_503_without_model(tmp_path: Path) -> None:
    with _Server(tmp_path) as srv:
        r = httpx.get(srv.url + "/readyz")
        assert r.status_code == 503
        assert "no intent model" in r.json()["error"]["message"]
        r = httpx.post(srv.url + "/v1/classify", json={"text": "hi"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_not_loaded"


def test_watcher_follows_current_pointer(intent_data_dir: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from services.intent import registry
    from services.intent import service as service_module

    monkeypatch.setattr(service_module, "WATCH_INTERVAL_S", 0.3)
    src = intent_data_dir / "models"
    (tmp_path / "models" / "intent").mkdir(parents=True)
    (tmp_path / "models" / "encoders").symlink_to(src / "encoders")
    root = tmp_path / "models" / "intent"
    for name in ("v1", "v2"):
        shutil.copytree(src / "intent" / name, root / name)
    registry.set_current(root, root / "v1")
    with _Server(tmp_path) as srv:
        def version() -> str | None:
            r = httpx.get(srv.url + "/readyz")
            return r.json()["checks"]["model"].get("model_version") if r.status_code == 200 else None

        deadline = time.time() + 60
        while version() != "v1" and time.time() < deadline:
            time.sleep(0.1)
        assert version() == "v1"
        registry.set_current(root, root / "v2")
        deadline = time.time() + 30
        while version() != "v2" and time.time() < deadline:
            time.sleep(0.2)
        assert version() == "v2"
