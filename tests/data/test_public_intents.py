"""`intents_public.csv` is training data written by other people (HINT3, Bitext, BANKING77, CrossWOZ,
CMRC 2018, medical dialogues, WebQuestions); these checks keep it labelled only with the taxonomy's names,
bilingual, attributed in SOURCES.md, bounded per label, and — above all — disjoint from the evaluation sets,
so scores measured on them stay honest."""

from __future__ import annotations

import collections
import csv
import json
import re
import unicodedata
from pathlib import Path

import pytest

import kefu.data as data

DATA = Path(data.__file__).parent
CSV_PATH = DATA / "intents_public.csv"
EVAL = DATA / "eval"
SOURCES = DATA / "SOURCES.md"
TABLE_ROW = re.compile(r"^\|\s*`([a-z_]+)`\s*\|")
MAX_PER_LABEL_SOURCE = 150
MAX_OOS_PER_SOURCE = 500


def normalise(text: str) -> str:
    """Lower-case, punctuation and symbols to spaces, whitespace collapsed (same key as the builder)."""
    chars = (" " if unicodedata.category(c)[0] in "PSZ" else c for c in text.lower())
    return " ".join("".join(chars).split())


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with CSV_PATH.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def taxonomy() -> set[str]:
    names = {m.group(1) for line in (EVAL / "taxonomy_proposal.md").read_text(encoding="utf-8").splitlines()
             if (m := TABLE_ROW.match(line))}
    assert len(names) == 72
    return names


@pytest.fixture(scope="module")
def eval_texts() -> set[str]:
    texts: set[str] = set()
    for line in (EVAL / "conversations.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            texts.update(normalise(turn["user"]) for turn in json.loads(line)["turns"])
    with (EVAL / "oos.csv").open(encoding="utf-8", newline="") as f:
        texts.update(normalise(r["text"]) for r in csv.DictReader(f))
    assert len(texts) > 2000
    return texts


def test_columns_and_size(rows: list[dict[str, str]]) -> None:
    assert rows and list(rows[0]) == ["text", "label", "lang", "source"]
    assert len(rows) >= 3000
    assert all(r["text"].strip() for r in rows)


def test_labels_are_taxonomy_names(rows: list[dict[str, str]], taxonomy: set[str]) -> None:
    assert {r["label"] for r in rows} <= taxonomy


def test_both_languages(rows: list[dict[str, str]]) -> None:
    langs = collections.Counter(r["lang"] for r in rows)
    assert set(langs) == {"en", "zh"}
    assert langs["zh"] >= 300
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert all(bool(cjk.search(r["text"])) == (r["lang"] == "zh") for r in rows)


def test_sources_are_documented(rows: list[dict[str, str]]) -> None:
    documented = SOURCES.read_text(encoding="utf-8")
    for source in {r["source"] for r in rows}:
        assert f"`{source}`" in documented, source


def test_no_evaluation_text(rows: list[dict[str, str]], eval_texts: set[str]) -> None:
    leaked = [r["text"] for r in rows if normalise(r["text"]) in eval_texts]
    assert not leaked, leaked[:10]


def test_no_duplicates(rows: list[dict[str, str]]) -> None:
    keys = collections.Counter(normalise(r["text"]) for r in rows)
    assert not [k for k, n in keys.items() if n > 1]


def test_caps_per_label_and_source(rows: list[dict[str, str]]) -> None:
    counts = collections.Counter((r["label"], r["source"]) for r in rows)
    for (label, source), n in counts.items():
        cap = MAX_OOS_PER_SOURCE if label == "out_of_scope" else MAX_PER_LABEL_SOURCE
        assert n <= cap, (label, source, n)


def test_no_other_shop_names_or_raw_order_numbers(rows: list[dict[str, str]]) -> None:
    brands = re.compile(r"\bsof\b|cure\s*kart|healthkart|heathkart", re.IGNORECASE)
    assert not [r["text"] for r in rows if brands.search(r["text"])]
    assert not [r["text"] for r in rows if re.search(r"\d{9,}|\{\{", r["text"])]


def test_builder_reproduces_the_file(tmp_path: Path) -> None:
    """Only where the source mirrors are present (the project's build machine)."""
    from kefu.data import public_intents as builder

    needed = [builder.HINT3_GIT, builder.CROSSWOZ_GIT, builder.CMRC_GIT, builder.MEDICAL_GIT, builder.WEBQ_GIT]
    if not all(p.is_dir() for p in needed):
        pytest.skip("source mirrors not available")
    try:
        builder.shared_dir()
    except FileNotFoundError:
        pytest.skip("shared data folder not available")
    out = tmp_path / "intents_public.csv"
    builder.main(["--out", str(out)])
    assert out.read_bytes() == CSV_PATH.read_bytes()
