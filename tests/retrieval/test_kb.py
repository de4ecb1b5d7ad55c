"""The knowledge base: parsing help files into passages, importing folders into SQL with versions
(bad files skipped and named, nothing half-imported, removed files' passages gone), the hybrid
search with its no-answer threshold, the CLI and the retrieval service's /v1/kb routes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.db import KbDocument, KbPassage, get_engine
from services.retrieval.kb import open_kb
from services.retrieval.kb.parse import ParseError, pack, parse
from services.retrieval.kb.store import import_paths
from tests.conftest import ROOT, kefu_env

LUMA = ROOT / "kefu" / "data" / "eval" / "kb" / "luma"
POLICY = ROOT / "kefu" / "data" / "policy"


def test_markdown_sections_become_sentence_runs_with_heading_titles() -> None:
    doc = parse((POLICY / "en.md").read_text(), "en.md")
    assert doc.title.startswith("Kefu Demo Shop") and doc.lang == "en"
    shipping = [p for p in doc.passages if p.title == "Shipping"]
    assert len(shipping) >= 2 and all(len(p.text) <= 300 for p in shipping)
    assert any("internationally" in p.text and "Standard shipping" not in p.text for p in shipping)
    assert len({p.key for p in doc.passages}) == len(doc.passages)
    zh = parse((POLICY / "zh.md").read_text(), "zh.md")
    assert zh.lang == "zh" and any("重复扣款" in p.text and "Visa" not in p.text for p in zh.passages)
    # Chinese headings with ids of their own: Chinese titles, the same passage keys as before
    assert {p.title for p in zh.passages} >= {"付款方式", "配送", "退货"}
    assert {p.key.split(":")[0] for p in zh.passages} >= {"payment", "shipping", "returns"}


def test_a_heading_id_names_the_passages() -> None:
    doc = parse("# Help\n\n## 付款方式 {#payment}\n\n我们接受支付宝。\n\n## Shipping\n\nWe ship daily.\n", "h.md")
    assert [(p.key, p.title) for p in doc.passages] == [("payment:0", "付款方式"), ("shipping:0", "Shipping")]


def test_html_headings_tables_and_lists() -> None:
    doc = parse((LUMA / "customer-service.html").read_text(), "customer-service.html")
    titles = {p.title for p in doc.passages}
    assert "Returns and Replacements › Returning Gifts" in titles
    table = next(p for p in doc.passages if "OVERNIGHT" in p.text)
    assert "$33" in table.text and "Over $1000.00" in table.text  # one passage for the whole table
    privacy = parse((LUMA / "privacy-policy.html").read_text(), "privacy-policy.html")
    assert not any(p.text == "name" for p in privacy.passages)  # list items join their paragraph


def test_faq_csv_text_and_bad_files() -> None:
    faq = parse("question,answer\nDo you gift wrap?,Yes — $5 per item.\n", "faq.csv")
    assert [(p.title, p.text) for p in faq.passages] == [("Do you gift wrap?", "Yes — $5 per item.")]
    txt = parse("Store hours\n\nWe open at 9 am. We close at 6 pm.\n", "hours.txt")
    assert txt.title == "Store hours" and txt.passages[0].text.startswith("We open")
    for text, name, why in [("", "a.md", "empty"), ("q,a\nx,y\n", "f.csv", "question,answer"),
                            ("question,answer\nonly a question,\n", "f.csv", "both"),
                            ("question,answer\nq?,yes, it is\n", "f.csv", "double quotes"),
                            ("x", "a.pdf", "unsupported")]:
        with pytest.raises(ParseError, match=why):
            parse(text, name)
    assert pack("One. Two. Three.", 9) == ["One. Two.", "Three."]


def _counts(engine) -> tuple[int, int]:
    with Session(engine) as s:
        return (s.scalar(select(func.count()).select_from(KbDocument)),
                s.scalar(select(func.count()).select_from(KbPassage)))


def test_folder_import_versions_bad_files_and_removals(sqlite_settings, tmp_path: Path) -> None:
    engine = get_engine(sqlite_settings.sql_url)
    shop = tmp_path / "help"
    shop.mkdir()
    for f in LUMA.iterdir():
        (shop / f.name).write_text(f.read_text())
    (shop / "faq.csv").write_text('question,answer\nDo you gift wrap?,"Yes, for $5 per item."\n')
    (shop / "broken.csv").write_text("q;a\nnope\n")
    (shop / "image.md").write_bytes(b"\x89PNG\x00\x00binary")
    (shop / "notes.docx").write_text("ignored: not a help format")
    seen: list[str] = []
    report = import_paths(engine, [shop], progress=lambda n, total, name: seen.append(f"{n}/{total}"))
    assert sorted(Path(f["file"]).name for f in report.failed) == ["broken.csv", "image.md"]
    assert len(report.added) == 3 and seen[-1] == "5/5"
    docs, passages = _counts(engine)
    assert docs == 3 and passages == report.passages

    again = import_paths(engine, [shop], progress=None)
    assert len(again.unchanged) == 3 and not again.added and not again.updated
    (shop / "faq.csv").write_text('question,answer\nDo you gift wrap?,"Yes, for $6 per item."\n')
    (shop / "privacy-policy.html").unlink()
    third = import_paths(engine, [shop], progress=None)
    assert [Path(x).name for x in third.updated] == ["faq.csv"] and [Path(x).name for x in third.removed] == [
        "privacy-policy.html"]
    with Session(engine) as s:
        faq = s.scalars(select(KbDocument).where(KbDocument.source.endswith("faq.csv"))).one()
        assert faq.version == 2
        texts = s.scalars(select(KbPassage.text).where(KbPassage.document_id == faq.id)).all()
        assert texts == ["Yes, for $6 per item."]
    assert _counts(engine)[0] == 2


def test_the_same_file_by_another_path_is_one_document(sqlite_settings, tmp_path: Path, monkeypatch) -> None:
    """`kefu kb import help` and `kefu kb import /abs/…/help` update one document, not two alike."""
    engine = get_engine(sqlite_settings.sql_url)
    (tmp_path / "help").mkdir()
    (tmp_path / "help" / "faq.csv").write_text('question,answer\nDo you gift wrap?,"Yes, for $5."\n')
    monkeypatch.chdir(tmp_path)
    first = import_paths(engine, [Path("help")], progress=None)
    second = import_paths(engine, [tmp_path / "help"], progress=None)
    assert len(first.added) == 1 and len(second.unchanged) == 1 and not second.added
    assert _counts(engine)[0] == 1


def test_search_answers_the_question_and_abstains(sqlite_settings) -> None:
    import_paths(get_engine(sqlite_settings.sql_url), [POLICY / "en.md", POLICY / "zh.md"], progress=None)
    kb = open_kb(sqlite_settings)
    kb.sync()
    canada = kb.search("do you ship to Canada?", "en")
    assert canada and "internationally" in canada[0].answer and "Standard shipping" not in canada[0].answer
    twice = kb.search("我被重复扣款了", "zh")
    assert twice and "重复" in twice[0].answer and twice[0].lang == "zh"
    assert kb.search("who won the football game last night", "en") == []
    assert kb.search("", "en") == []


def test_out_of_scope_readings_get_only_an_faq_asked_in_its_own_words(sqlite_settings, tmp_path: Path) -> None:
    """With the out_of_scope hint the threshold alone does not decide: the shop's FAQ answers a
    shopper who asks its question, and nothing answers a question that merely scores like a help
    question ("可以货到付款吗" against the payment section)."""
    (tmp_path / "faq.csv").write_text('question,answer\nIs there a loyalty program?,"Yes: points never expire."\n')
    import_paths(get_engine(sqlite_settings.sql_url), [POLICY / "en.md", POLICY / "zh.md", tmp_path / "faq.csv"],
                 progress=None)
    kb = open_kb(sqlite_settings)
    kb.sync()
    for asked in ("is there a loyalty program?", "do you have a loyalty program"):
        hits = kb.search(asked, "en", "out_of_scope")
        assert hits and "never expire" in hits[0].answer and hits[0].scores["title"] >= 0.975, asked
    assert kb.search("可以货到付款吗", "zh", "out_of_scope") == []
    assert kb.search("how do i reset my router", "en", "out_of_scope") == []
    assert kb.search("do you ship to Canada?", "en")  # without the hint the usual threshold answers


def test_cli_import_and_eval(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = kefu_env(data)
    bad = tmp_path / "bad.html"
    bad.write_bytes(b"\x00\x01")
    imp = subprocess.run([sys.executable, "-m", "kefu.cli", "kb", "import", str(POLICY), str(LUMA), str(bad)],
                         env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert imp.returncode == 0, imp.stderr
    assert f"error: {bad}: binary file" in imp.stderr and "[kb] 2/5" in imp.stderr
    out = json.loads(imp.stdout.strip().splitlines()[-1])
    assert out["added"] == 4 and len(out["failed"]) == 1
    none = subprocess.run([sys.executable, "-m", "kefu.cli", "kb", "import", str(bad)], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert none.returncode == 1
    ev = subprocess.run([sys.executable, "-m", "kefu.cli", "kb", "eval", "--questions",
                         str(ROOT / "kefu/data/eval/kb_questions.csv"), "--split", "dev", "--json"],
                        env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert ev.returncode == 0, ev.stderr
    res = json.loads(ev.stdout.strip().splitlines()[-1])
    assert {"n", "hit@1", "hit@3", "mrr", "p50_ms", "answer_accuracy", "by_lang"} <= set(res)
    assert res["n"] > 100 and res["hit@1"] > 0.7


def test_service_routes(sqlite_settings) -> None:
    from services.retrieval.app import create_app

    import_paths(get_engine(sqlite_settings.sql_url), [POLICY / "en.md"], progress=None)
    app = create_app(sqlite_settings)
    rt = app.state.retrieval
    rt.kb.sync()
    with TestClient(app) as c:
        r = c.post("/v1/kb/search", json={"question": "I was charged twice", "lang": "en", "intent": "payment_issue"})
        assert r.status_code == 200 and "duplicate" in r.json()["passages"][0]["answer"]
        assert c.post("/v1/kb/search", json={"question": "  "}).status_code == 422
        assert c.post("/v1/kb/search", json={"question": "x", "lang": "fr"}).status_code == 422
        up = c.post("/v1/kb/documents", json={"name": "faq.csv", "content": "question,answer\nGift wrap?,Yes.\n"})
        assert up.status_code == 201 and up.json()["outcome"] == "added"
        bad = c.post("/v1/kb/documents", json={"name": "faq.csv", "content": "no header"})
        assert bad.status_code == 422 and "question,answer" in bad.json()["error"]["message"]
        assert len(c.get("/v1/kb/documents").json()["documents"]) == 2
        assert c.delete(f"/v1/kb/documents/{up.json()['id']}").status_code == 200
        assert c.delete("/v1/kb/documents/nope").status_code == 404
