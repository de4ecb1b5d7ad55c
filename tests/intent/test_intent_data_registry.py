"""Training-file reading, validation split and the versioned model folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.intent import registry
from services.intent.data import DataError, data_hash, detect_oos_label, load, stratified_split
from services.intent.text import clean, ft_line


def test_csv_and_jsonl_load_the_same(tmp_path: Path) -> None:
    rows = [("where is my order", "order_status"), ("你好", "greeting"), ("  ", "greeting"), ("hi", "greeting")]
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("utterance,intent\n" + "".join(f'"{t}",{lab}\n' for t, lab in rows), encoding="utf-8")
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("".join(json.dumps({"utterance": t, "intent": lab}) + "\n" for t, lab in rows))
    a, b = load(csv_path, "utterance", "intent"), load(jsonl, "utterance", "intent")
    assert a.texts == b.texts == ["where is my order", "你好", "hi"]  # blank text dropped
    assert data_hash(a) == data_hash(b)


def test_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text("text,category\nhello,greeting\n")
    with pytest.raises(DataError, match="no column 'label'"):
        load(p)


def test_split_is_stratified_and_seeded() -> None:
    from services.intent.data import Dataset

    ds = Dataset([f"t{i}" for i in range(100)], ["a"] * 50 + ["b"] * 45 + ["c"] * 5)
    tr1, va1 = stratified_split(ds, 0.1, seed=3)
    tr2, va2 = stratified_split(ds, 0.1, seed=3)
    assert (tr1, va1) == (tr2, va2)
    assert not set(tr1) & set(va1) and len(tr1) + len(va1) == 100
    assert {ds.labels[i] for i in va1} == {"a", "b", "c"}
    assert stratified_split(ds, 0.1, seed=4)[1] != va1


def test_oos_label_detection() -> None:
    assert detect_oos_label(["a", "out_of_scope"]) == "out_of_scope"
    assert detect_oos_label(["a", "b"]) is None
    assert detect_oos_label(["a", "other"], explicit="other") == "other"


def test_clean_handles_hostile_text() -> None:
    assert clean("a\x00b\u200bc\nd") == "a b c d"
    assert len(clean("x" * 100_000)) == 1000
    assert "\n" not in ft_line("line one\nline two") and ft_line("\x00\x01") == "<empty>"


def test_current_pointer(tmp_path: Path) -> None:
    root = tmp_path / "intent"
    assert registry.current_dir(root) is None
    for name in ("v1", "v2"):
        (root / name).mkdir(parents=True)
        (root / name / "meta.json").write_text("{}")
    registry.set_current(root, root / "v1")
    assert registry.current_dir(root) == root / "v1"
    registry.set_current(root, root / "v2")
    assert (root / "current").read_text().strip() == "v2"
    assert registry.resolve_model_dir(root) == root / "v2"
    assert registry.resolve_model_dir(root / "v1") == root / "v1"
    with pytest.raises(FileNotFoundError):
        registry.resolve_model_dir(tmp_path / "nope")


def test_bootstrap_is_idempotent(intent_data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kefu.settings import Settings
    from services.intent.bootstrap import build

    root = registry.intent_root(intent_data_dir / "models")
    before = sorted(p.name for p in root.iterdir())
    build(Settings(data_dir=intent_data_dir), quick=True)
    assert sorted(p.name for p in root.iterdir()) == before
    assert "skipping" in capsys.readouterr().out
