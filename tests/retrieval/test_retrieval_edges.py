"""The retrieval service on bad paging and ids (issue 19): 422/404 JSON, never the OverflowError
500 that tripped the gateway's breaker; the catalog function refuses an out-of-range page too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from kefu.db import get_engine
from kefu.settings import get_settings
from services.retrieval.catalog import MAX_OFFSET, import_file, list_products

HUGE = "99999999999999999999999"


@pytest.fixture
async def client(sqlite_settings, catalog_file: Path, monkeypatch):
    monkeypatch.setenv("KEFU_DATA_DIR", str(sqlite_settings.data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    import_file(sqlite_settings.sql_url, catalog_file, show_progress=False)
    from services.retrieval.app import create_app

    app = create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            for _ in range(600):
                if (await c.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            yield c
    get_settings.cache_clear()


@pytest.mark.parametrize("query", [f"offset={HUGE}", f"limit={HUGE}", "offset=-1", "limit=-1", "limit=0",
                                   f"offset={MAX_OFFSET + 1}", "limit=501", "offset=abc"])
async def test_bad_paging_is_422(client: httpx.AsyncClient, query: str) -> None:
    r = await client.get(f"/v1/products?{query}")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_request"


async def test_edge_pages_still_answer(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/v1/products?offset={MAX_OFFSET}&limit=500")
    assert r.status_code == 200 and r.json()["items"] == []


@pytest.mark.parametrize("path", ["/v1/products/%00", "/v1/products/" + "x" * 200, "/v1/kb/documents/%00"])
async def test_bad_ids_are_4xx_json(client: httpx.AsyncClient, path: str) -> None:
    for method in ("GET", "DELETE"):
        if method == "GET" and "kb" in path:
            continue
        r = await client.request(method, path)
        assert 400 <= r.status_code < 500, (method, path, r.text)
        assert r.json()["error"]["code"]


def test_list_products_refuses_out_of_range_pages(sqlite_settings, catalog_file: Path) -> None:
    import_file(sqlite_settings.sql_url, catalog_file, show_progress=False)
    with Session(get_engine(sqlite_settings.sql_url)) as s:
        with pytest.raises(ValueError):
            list_products(s, offset=int(HUGE))
        assert list_products(s, limit=2)[0]
