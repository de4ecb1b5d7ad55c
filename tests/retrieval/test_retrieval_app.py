"""The HTTP app through ASGI (lifespan run): contract endpoints, bad input, readiness and lag."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from kefu.settings import get_settings
from services.retrieval.catalog import import_file


@pytest.fixture
async def client(sqlite_settings, catalog_file: Path, monkeypatch):
    monkeypatch.setenv("KEFU_DATA_DIR", str(sqlite_settings.data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("KEFU_RETRIEVAL_WATCH_S", "0.2")
    get_settings.cache_clear()
    import_file(sqlite_settings.sql_url, catalog_file, show_progress=False)
    from services.retrieval.app import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            for _ in range(600):
                r = await c.get("/readyz")
                if r.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert r.status_code == 200, r.text
            yield c
    get_settings.cache_clear()


async def test_search_contract(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/search", json={"query": "running shoes under 100", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["filters"]["price_max"] == 100 and body["index_version"].startswith("v")
    assert body["hits"][0]["id"] == "S1" and body["hits"][0]["scorers"] and body["hits"][0]["score"] > 0
    r = await client.post("/v1/search", json={"query": "lamp", "k": 2, "filters": {"price_max": 40}})
    hits = r.json()["hits"]
    assert hits[0]["id"] == "L1" and all(h["price"] <= 40 for h in hits)


@pytest.mark.parametrize("query", [
    "x" * 10_240, "' OR 1=1; DROP TABLE products; --", ".*[(?<!\\\\", "%_%", "🛋️ sofa 😀", "\u0000null byte",
    "<script>alert(1)</script>", "沙发" * 2000, "under", "$$$ 50元以下",
])
async def test_odd_queries_give_valid_results(client: httpx.AsyncClient, query: str) -> None:
    r = await client.post("/v1/search", json={"query": query, "k": 5})
    assert r.status_code == 200, r.text
    assert isinstance(r.json()["hits"], list)


@pytest.mark.parametrize("payload", [{"query": ""}, {"query": "   "}, {}, {"query": "a", "k": 0},
                                     {"query": "a", "k": 1000}, {"query": 5}])
async def test_bad_search_requests_are_422(client: httpx.AsyncClient, payload: dict) -> None:
    r = await client.post("/v1/search", json=payload)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request"


async def test_not_json_is_4xx_json(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/search", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "error" in r.json()


async def test_product_lifecycle(client: httpx.AsyncClient) -> None:
    new = {"id": "N9", "title": "Electric kettle", "category": "Kitchen", "price": 25, "stock": 3,
           "attributes": {"title_zh": "电热水壶"}}
    r = await client.post("/v1/products", json=new)
    assert r.status_code == 200 and r.json()["added"] == ["N9"]
    r = await client.post("/v1/search", json={"query": "kettle", "k": 1})
    assert r.json()["hits"][0]["id"] == "N9"
    r = await client.post("/v1/search", json={"query": "水壶", "k": 1})
    assert r.json()["hits"][0]["id"] == "N9"
    r = await client.get("/v1/products/N9")
    assert r.status_code == 200 and r.json()["price"] == 25
    r = await client.post("/v1/products", json=[{**new, "price": 22}, {"id": "N10", "title": "Teapot"}])
    assert r.json()["updated"] == ["N9"] and r.json()["added"] == ["N10"]
    r = await client.get("/v1/products", params={"category": "kitchen", "limit": 10})
    assert r.status_code == 200 and {p["id"] for p in r.json()["items"]} == {"K1", "K2", "N9"}
    assert r.json()["total"] == 3
    r = await client.get("/v1/products", params={"ids": "N10,nope,N9,K1,N10"})  # one call for shown products
    assert r.status_code == 200 and [p["id"] for p in r.json()["items"]] == ["N10", "N9", "K1"]
    assert r.json()["items"][1]["price"] == 22
    for bad in (",", "x," * 600):
        r = await client.get("/v1/products", params={"ids": bad})
        assert r.status_code == 422 and r.json()["error"]["code"] in ("invalid_request", "validation_error")
    r = await client.delete("/v1/products/N9")
    assert r.status_code == 200
    r = await client.post("/v1/search", json={"query": "kettle", "k": 12})
    assert "N9" not in [h["id"] for h in r.json()["hits"]]
    for method, url in (("DELETE", "/v1/products/N9"), ("GET", "/v1/products/N9"), ("DELETE", "/v1/products/zz")):
        r = await client.request(method, url)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    ready = (await client.get("/readyz")).json()["checks"]["index"]
    assert ready["index_size"] == ready["catalog_count"] == 12 and ready["lag_products"] == 0


async def test_invalid_products_store_nothing(client: httpx.AsyncClient) -> None:
    r = await client.post("/v1/products", json=[{"id": "G1", "title": "good"}, {"id": "G2", "title": "bad",
                                                                             "price": -5}])
    assert r.status_code == 422
    assert (await client.get("/v1/products/G1")).status_code == 404
    r = await client.post("/v1/products", json=[])
    assert r.status_code == 422
    r = await client.post("/v1/products", json={"id": "G3", "title": "x", "attributes": "not an object"})
    assert r.status_code == 422


async def test_readyz_reports_index_and_catches_up_with_outside_writes(client: httpx.AsyncClient,
                                                                       sqlite_settings, tmp_path: Path) -> None:
    body = (await client.get("/readyz")).json()
    idx = body["checks"]["index"]
    assert idx["ok"] and idx["index_version"].startswith("v") and idx["index_size"] == 11
    assert idx["lag_products"] == 0 and idx["index_kind"] == "flat"
    extra = tmp_path / "more.csv"
    extra.write_text("id,title,price\nZ1,Hammock for the garden,80\n", encoding="utf-8")
    import_file(sqlite_settings.sql_url, extra, show_progress=False)  # as `kefu catalog import` would
    for _ in range(100):
        idx = (await client.get("/readyz")).json()["checks"]["index"]
        if idx["index_size"] == 12:
            break
        await asyncio.sleep(0.1)
    assert idx["index_size"] == 12 and idx["lag_products"] == 0
    r = await client.post("/v1/search", json={"query": "hammock", "k": 1})
    assert r.json()["hits"][0]["id"] == "Z1"
