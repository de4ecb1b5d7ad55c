"""Fixtures for retrieval tests: a small bilingual catalog, on SQLite and on real PostgreSQL."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.pg import fresh_pg_database

os.environ.setdefault("HF_HUB_OFFLINE", "1")


PRODUCTS = [
    {"id": "S1", "title": "Trail running shoes", "category": "Shoes", "brand": "Stride", "price": 89.0,
     "stock": 12, "description": "Lightweight trail runners with a grippy sole.",
     "attributes": {"title_zh": "越野跑鞋", "category_zh": "鞋"}},
    {"id": "S2", "title": "Road running shoes", "category": "Shoes", "brand": "Fleet", "price": 129.0,
     "stock": 0, "description": "Cushioned shoes for long road runs.",
     "attributes": {"title_zh": "公路跑鞋", "category_zh": "鞋"}},
    {"id": "S3", "title": "Leather dress shoes", "category": "Shoes", "brand": "Oxbridge", "price": 45.0,
     "stock": 3, "description": "Classic oxford shoes for the office.",
     "attributes": {"title_zh": "真皮正装鞋", "category_zh": "鞋"}},
    {"id": "F1", "title": "Compact two-seat sofa", "category": "Sofas", "brand": "Nook", "price": 450.0,
     "stock": 2, "description": "A small loveseat that fits a studio apartment.",
     "attributes": {"title_zh": "小户型双人沙发", "category_zh": "沙发"}},
    {"id": "F2", "title": "Large sectional sofa", "category": "Sofas", "brand": "Nook", "price": 1200.0,
     "stock": 1, "description": "A corner sectional for big living rooms.",
     "attributes": {"title_zh": "大型转角沙发", "category_zh": "沙发"}},
    {"id": "L1", "title": "Brass desk lamp", "category": "Lighting", "brand": "Lumo", "price": 35.0,
     "stock": 20, "description": "Adjustable reading lamp with a warm LED bulb.",
     "attributes": {"title_zh": "黄铜台灯", "category_zh": "灯具"}},
    {"id": "L2", "title": "Floor lamp with linen shade", "category": "Lighting", "brand": "Lumo",
     "price": 79.0, "stock": 5, "description": "Tall floor lamp for living rooms.",
     "attributes": {"title_zh": "亚麻灯罩落地灯", "category_zh": "灯具"}},
    {"id": "H1", "title": "Wireless noise-cancelling headphones", "category": "Electronics", "brand": "Sonic",
     "price": 199.0, "stock": 7, "description": "Over-ear Bluetooth headphones, 30 hour battery.",
     "attributes": {"title_zh": "无线降噪耳机", "category_zh": "电子产品"}},
    {"id": "H2", "title": "Wired earbuds", "category": "Electronics", "brand": "Sonic", "price": 19.0,
     "stock": 0, "description": "In-ear headphones with a microphone.",
     "attributes": {"title_zh": "有线耳机", "category_zh": "电子产品"}},
    {"id": "K1", "title": "Ceramic coffee mug", "category": "Kitchen", "brand": "Hearth", "price": 12.0,
     "stock": 40, "description": "A 350 ml stoneware mug for coffee or tea.",
     "attributes": {"title_zh": "陶瓷咖啡杯", "category_zh": "厨房"}},
    {"id": "K2", "title": "Stainless steel chef knife", "category": "Kitchen", "brand": "Hearth",
     "price": 60.0, "stock": 9, "description": "An 8 inch knife for everyday cooking.",
     "attributes": {"title_zh": "不锈钢厨师刀", "category_zh": "厨房"}},
]


@pytest.fixture(scope="session")
def shared_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ONNX export for the whole session; each data dir links to it."""
    return tmp_path_factory.mktemp("models")


def _pg_url() -> str | None:
    return fresh_pg_database("retrieval")


def _reset_pg(url: str) -> None:
    from sqlalchemy import text

    from kefu.db import get_engine

    eng = get_engine(url)
    with eng.begin() as c:
        c.execute(text("DELETE FROM products"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, shared_models: Path):
    from kefu.settings import Settings

    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(shared_models, target_is_directory=True)
    url = None
    if request.param == "postgres":
        url = _pg_url()
        if url is None:
            pytest.fail("PostgreSQL is not answering at 127.0.0.1:5432 (tests need it; `make test` starts it)")
        _reset_pg(url)
    return Settings(data_dir=data, database_url=url)


@pytest.fixture
def sqlite_settings(tmp_path: Path, shared_models: Path):
    from kefu.settings import Settings

    data = tmp_path / "data"
    data.mkdir()
    (data / "models").symlink_to(shared_models, target_is_directory=True)
    return Settings(data_dir=data)


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    path = tmp_path / "catalog.jsonl"
    path.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in PRODUCTS) + "\n", encoding="utf-8")
    return path
