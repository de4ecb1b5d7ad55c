"""Catalog import: validation, rejections with reasons, upsert by id, no half-applied batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.db import Product, get_engine
from services.retrieval.catalog import RowError, import_file, validate_row

CSV = """id,title,description,category,price,currency,stock,url,image_url,brand,attributes
A1,Blue mug,Nice mug,Kitchen,9.5,USD,3,,,Hearth,"{""title_zh"": ""蓝色杯子""}"
A2,Red mug,,Kitchen,,,,,,,
A3,,no title here,Kitchen,1,USD,1,,,,
A4,Bad price,,Kitchen,abc,USD,1,,,,
A5,Negative stock,,Kitchen,3,USD,-2,,,,
A6,Bad attrs,,Kitchen,3,USD,2,,,,{not json}
A7,List attrs,,Kitchen,3,USD,2,,,,"[1,2]"
,No id,,Kitchen,3,USD,2,,,,
A8,Too many,,Kitchen,3,USD,2,,,,,extra
A9,Fractional stock,,Kitchen,3,USD,2.5,,,,
"""


def _products(settings) -> dict[str, Product]:
    with Session(get_engine(settings.sql_url)) as s:
        return {p.id: p for p in s.scalars(select(Product))}


def test_import_csv_reports_rejections_and_keeps_good_rows(settings, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(CSV, encoding="utf-8")
    rep = import_file(settings.sql_url, path, batch_size=3, show_progress=False)
    assert (rep.added, rep.updated, len(rep.rejected)) == (2, 0, 8)
    reasons = {r["row"]: r["reason"] for r in rep.rejected}
    assert "title: missing" in reasons[4]
    assert "price" in reasons[5] and "stock" in reasons[6] and "attributes" in reasons[7]
    assert "JSON object" in reasons[8] and "id: missing" in reasons[9]
    assert "more cells" in reasons[10] and "whole number" in reasons[11]
    rows = _products(settings)
    assert set(rows) == {"A1", "A2"}
    assert rows["A1"].price == 9.5 and rows["A1"].attributes == {"title_zh": "蓝色杯子"}
    assert rows["A2"].price is None and rows["A2"].stock == 0 and rows["A2"].currency == "USD"


def test_reimport_updates_by_id_and_leaves_unchanged_rows_alone(settings, catalog_file: Path, tmp_path: Path) -> None:
    rep = import_file(settings.sql_url, catalog_file, show_progress=False)
    assert rep.added == 11 and not rep.rejected
    before = _products(settings)["S1"].updated_at
    rep2 = import_file(settings.sql_url, catalog_file, show_progress=False)
    assert (rep2.added, rep2.updated, rep2.unchanged) == (0, 0, 11)
    assert _products(settings)["S1"].updated_at == before  # unchanged rows do not look changed
    changed = tmp_path / "changed.jsonl"
    changed.write_text(json.dumps({"id": "S1", "title": "Trail running shoes v2", "price": 79}) + "\n"
                       + "{broken json\n", encoding="utf-8")
    rep3 = import_file(settings.sql_url, changed, show_progress=False)
    assert (rep3.added, rep3.updated, len(rep3.rejected)) == (0, 1, 1)
    assert "not valid JSON" in rep3.rejected[0]["reason"]
    s1 = _products(settings)["S1"]
    assert s1.title == "Trail running shoes v2" and s1.price == 79 and s1.updated_at > before


def test_header_without_required_columns_is_an_error(sqlite_settings, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("sku,name\n1,x\n", encoding="utf-8")
    with pytest.raises(RowError, match="id, title"):
        import_file(sqlite_settings.sql_url, path, show_progress=False)


def test_a_failing_batch_rolls_back_whole(sqlite_settings, tmp_path: Path, monkeypatch) -> None:
    """A database error mid-batch must not leave half the batch written."""
    import services.retrieval.catalog as cat

    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"B{i}", "title": f"item {i}"}) for i in range(6)) + "\n")
    real = cat.upsert_products
    calls = {"n": 0}

    def flaky(session, rows):  # second batch fails after writing its rows
        calls["n"] += 1
        out = real(session, rows)
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return out

    monkeypatch.setattr(cat, "upsert_products", flaky)
    with pytest.raises(RuntimeError):
        import_file(sqlite_settings.sql_url, path, batch_size=3, show_progress=False)
    assert set(_products(sqlite_settings)) == {"B0", "B1", "B2"}


@pytest.mark.parametrize("row,reason", [
    ({"id": "x", "title": "t", "price": float("nan")}, "finite"),
    ({"id": "x", "title": "t", "price": -1}, ">= 0"),
    ({"id": "x" * 65, "title": "t"}, "longer than 64"),
    ({"id": "x", "title": "t", "attributes": "[]"}, "JSON object"),
    ({"id": "x", "title": {"a": 1}}, "expected text"),
])
def test_validate_row_rejects(row: dict, reason: str) -> None:
    with pytest.raises(RowError, match=reason):
        validate_row(row)


def test_validate_row_normalises() -> None:
    out = validate_row({"id": " P1 ", "title": "T", "price": "$1,299.50", "stock": "3", "currency": "usd",
                        "attributes": '{"a": 1}'})
    assert out["id"] == "P1" and out["price"] == 1299.5 and out["stock"] == 3 and out["currency"] == "USD"
    assert out["attributes"] == {"a": 1}
