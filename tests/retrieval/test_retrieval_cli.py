"""Contract commands in-process: catalog import, index build, retrieval eval --json; bootstrap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kefu.settings import get_settings


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    from kefu.cli import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture
def data_dir(sqlite_settings, monkeypatch) -> Path:
    monkeypatch.setenv("KEFU_DATA_DIR", str(sqlite_settings.data_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield sqlite_settings.data_dir
    get_settings.cache_clear()


def test_import_build_eval(data_dir: Path, catalog_file: Path, tmp_path: Path, capsys) -> None:
    d = ["--data-dir", str(data_dir)]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,title,price\nX1,Thing,-3\nX2,Other,4\n", encoding="utf-8")
    rc, out, err = run(["catalog", "import", "--file", str(catalog_file), *d], capsys)
    assert rc == 0 and json.loads(out.splitlines()[-1])["added"] == 11 and "[catalog import]" in err
    rc, out, err = run(["catalog", "import", "--file", str(bad), "--strict", *d], capsys)
    summary = json.loads(out.splitlines()[-1])
    assert rc == 1 and summary["rejected"] == 1 and summary["added"] == 1 and "row 2" in err
    rc, out, _ = run(["index", "build", *d], capsys)
    assert rc == 0 and json.loads(out.splitlines()[-1])["size"] == 12
    rc, out, _ = run(["index", "build", *d], capsys)  # incremental: nothing to embed
    assert json.loads(out.splitlines()[-1])["embedded"] == 0
    queries = tmp_path / "q.csv"
    queries.write_text("query_id,text\nq1,trail running shoes\nq2,desk lamp\nq3,咖啡杯\nq4,no judgements\n")
    qrels = tmp_path / "r.csv"
    qrels.write_text("query_id,product_id,grade\nq1,S1,2\nq1,S2,1\nq2,L1,2\nq2,L2,1\nq3,K1,2\nq4,K2,0\n")
    rc, out, _ = run(["retrieval", "eval", "--queries", str(queries), "--qrels", str(qrels), "--json", *d], capsys)
    res = json.loads(out.strip().splitlines()[-1])
    assert rc == 0
    assert {"n", "ndcg@10", "recall@100", "mrr@10", "p50_ms", "p99_ms"} <= set(res)
    assert res["n"] == 3  # q4 has no relevant product, so it cannot be scored
    assert res["mrr@10"] == 1.0 and res["ndcg@10"] > 0.9 and res["recall@100"] == 1.0
    assert 0 < res["p50_ms"] <= res["p99_ms"]
    rc, out, _ = run(["index", "status", *d], capsys)
    st = json.loads(out)
    assert st["index_size"] == 12 and st["lag_products"] == 0


def test_bootstrap_imports_bundled_catalog_once(data_dir: Path, catalog_file: Path, monkeypatch) -> None:
    from services.retrieval import bootstrap

    monkeypatch.setattr(bootstrap, "bundled_catalog", lambda: catalog_file)
    settings = get_settings()
    bootstrap.build(settings, quick=True)
    from services.retrieval.engine import RetrievalEngine

    eng = RetrievalEngine(settings, verbose=False)
    assert eng.load() and eng.snap.index.ntotal == 11
    v = eng.current_version()
    bootstrap.build(settings, quick=True)  # idempotent: no new version when nothing changed
    assert RetrievalEngine(settings, verbose=False).current_version() == v


def test_metrics_helpers() -> None:
    from services.retrieval.evaluate import mrr, ndcg, recall

    rels = {"a": 2, "b": 1, "c": 0}
    assert ndcg(["a", "b"], rels, 10) == pytest.approx(1.0)
    assert ndcg(["b", "a"], rels, 10) < 1.0 and ndcg(["x"], rels, 10) == 0.0
    assert recall(["b", "z"], rels, 100) == 0.5 and mrr(["z", "b"], rels, 10) == 0.5
