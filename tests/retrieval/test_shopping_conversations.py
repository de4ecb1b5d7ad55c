"""The scripted shopping conversations (issue 15) against a real engine over the demo catalog:
the test split meets the issue's bars, and no turn shows a product of another type."""

from __future__ import annotations

from pathlib import Path

from gateway.evaluation.shopping import engine_search, load, run
from kefu.data import __file__ as data_init
from services.retrieval.catalog import import_file, index_rows
from services.retrieval.engine import RetrievalEngine

DEMO = Path(data_init).parent / "catalog.jsonl"


def test_conversation_split_meets_the_bars(sqlite_settings) -> None:
    import_file(sqlite_settings.sql_url, DEMO, show_progress=False)
    eng = RetrievalEngine(sqlite_settings, verbose=False)
    eng.sync()
    catalog = {r["id"]: r for r in index_rows(eng.engine)}
    convs = load("test")
    assert sum(len(c["turns"]) for c in load()) >= 100 and {c["lang"] for c in convs} == {"en", "zh"}
    report = run(convs, engine_search(eng), catalog)
    print({k: v for k, v in report.items() if k != "failures"})
    assert report["constraint_accuracy"] >= 0.9, report["failures"]
    assert report["satisfying_turns"] >= 0.9, report["failures"]
    assert report["attribute_accuracy"] >= 0.95, report["failures"]
    assert report["unrelated_products"] == 0
