"""`kefu intent train/eval` end to end on a small CSV, and the LLM's structured understanding
(services.intent.llm_understand) over real HTTP: validated, and the cascade when it is not."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client import REGISTRY

from kefu.cli import main as kefu_main
from services.intent.llm_understand import parse, response_format
from services.intent.model import IntentModel, LLMReranker


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    env_before = os.environ.get("KEFU_DATA_DIR")
    try:
        with pytest.raises(SystemExit) as exit_info:
            kefu_main(argv)
    finally:  # `--data-dir` exports KEFU_DATA_DIR; keep other tests unaffected
        if env_before is None:
            os.environ.pop("KEFU_DATA_DIR", None)
        else:
            os.environ["KEFU_DATA_DIR"] = env_before
        from kefu.settings import get_settings

        get_settings.cache_clear()
    return int(exit_info.value.code or 0), capsys.readouterr().out


def test_cli_train_and_eval(intent_data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            subset_csv) -> None:
    data = subset_csv(tmp_path / "small.csv", every=4)
    out = tmp_path / "model"
    # same data dir as the session model, so the ONNX export is reused
    rc, stdout = _run_cli(["intent", "train", "--data", str(data), "--out", str(out), "--quick",
                           "--seed", "1", "--data-dir", str(intent_data_dir)], capsys)
    assert rc == 0
    assert (out / "meta.json").is_file()
    meta = json.loads((out / "meta.json").read_text())
    assert meta["params"]["seed"] == 1 and "tau" in meta and "delta" in meta

    test_csv = subset_csv(tmp_path / "eval.csv")
    rc, stdout = _run_cli(["intent", "eval", "--model", str(out), "--data", str(test_csv),
                           "--oos-label", "out_of_scope", "--report-dir", str(tmp_path / "rep"), "--json",
                           "--data-dir", str(intent_data_dir)], capsys)
    assert rc == 0
    result = json.loads(stdout.strip().splitlines()[-1])
    for key in ("n", "accuracy", "macro_f1", "fasttext_accuracy", "rerank_rate", "p50_ms", "p99_ms",
                "in_scope_accuracy", "oos_recall"):
        assert key in result, key
    assert result["n"] == 6 * 180
    assert result["accuracy"] > 0.8
    report = json.loads((tmp_path / "rep" / "intent_report.json").read_text())
    assert set(report["per_intent"]) >= {"greeting", "order_status"}
    errors = json.loads((tmp_path / "rep" / "intent_errors.json").read_text())
    assert len(errors) == round((1 - result["accuracy"]) * result["n"])


def test_cli_rejects_missing_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("utterance,foo\nhello,bar\n")
    rc, _ = _run_cli(["intent", "train", "--data", str(bad), "--label-col", "intent", "--out",
                      str(tmp_path / "m"), "--data-dir", str(tmp_path)], capsys)
    assert rc == 2


LABELS = ["order_status", "cancel_order", "refund_status", "complaint", "damaged_item", "out_of_scope"]


@pytest.mark.parametrize(("content", "want"), [
    ('{"intents": ["damaged_item", "complaint"], "slots": {"order_id": "KF100007"}, "goal": "new"}',
     (["damaged_item", "complaint"], {"order_id": "KF100007"}, "new")),
    ('```json\n{"intents": ["cancel_order"], "slots": {}, "goal": "switch"}\n```', (["cancel_order"], {}, "switch")),
    # a slot the message does not contain is dropped, the reading kept
    ('{"intents": ["order_status"], "slots": {"order_id": "KF999999"}, "goal": "new"}', (["order_status"], {}, "new")),
    ('{"intents": ["order_status", "order_status"], "slots": {}, "goal": "new"}', (["order_status"], {}, "new")),
    ("refund_status", None),  # prose, not JSON
    ('{"intents": ["track_parcel"], "slots": {}, "goal": "new"}', None),  # not in the taxonomy
    ('{"intents": [], "slots": {}, "goal": "new"}', None),
    ('{"intents": ["a", "b", "c"], "slots": {}, "goal": "new"}', None),
    ('{"intents": ["complaint"], "slots": {}, "goal": "maybe"}', None),
    ('{"intents": ["complaint"], "slots": {}, "goal": "new", "reply": "Sure!"}', None),  # keys outside the schema
])
def test_structured_answers_are_validated(content: str, want: tuple | None) -> None:
    got = parse(content, LABELS, "my parcel KF100007 arrived broken, this is the worst")
    if want is None:
        assert got is None
    else:
        assert got is not None and (got.intents, got.slots, got.goal) == want


def test_the_schema_lists_the_taxonomy() -> None:
    fmt = response_format(LABELS)
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    props = fmt["json_schema"]["schema"]["properties"]
    assert props["intents"]["items"]["enum"] == LABELS and props["intents"]["maxItems"] == 2
    assert response_format(LABELS, "json_object") == {"type": "json_object"}


def _fake_llm(answer: str) -> tuple[uvicorn.Server, int, list[dict]]:
    """A real OpenAI-compatible endpoint that always names `answer`; records what it was asked."""
    app = FastAPI()
    seen: list[dict] = []

    @app.post("/v1/chat/completions")
    async def chat(body: dict) -> dict:
        seen.append(body)
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]}

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    return server, port, seen


def test_llm_reranker_picks_among_candidates_and_falls_back(intent_model: IntentModel) -> None:
    import copy

    server, port, seen = _fake_llm('{"intents": ["refund_status", "order_status"], "slots": {"order_id": "KF100007"}, '
                                   '"goal": "new"}')
    try:
        m = copy.copy(intent_model)
        m.tau = 1.01  # force the re-rank stage
        m.reranker = "llm"
        m.llm = LLMReranker(f"http://127.0.0.1:{port}/v1", "test-model", timeout_s=2)
        pred = m.classify("my money from the return of KF100007, where is it")
        assert pred.stage == "rerank" and pred.reranker == "llm"
        assert pred.intent == "refund_status" and pred.also == ["order_status"]
        assert pred.slots == {"order_id": "KF100007"} and pred.goal == "new"
        asked = seen[0]
        assert asked["response_format"]["type"] == "json_schema"
        assert set(asked["response_format"]["json_schema"]["schema"]["properties"]["intents"]["items"]["enum"]) \
            == set(intent_model.labels)
    finally:
        server.should_exit = True
    # an answer outside the schema: the embedding re-ranker's label stands, counted as invalid
    server, port, _ = _fake_llm("refund_status")
    try:
        before = REGISTRY.get_sample_value("kefu_intent_llm_fallback_total", {"reason": "invalid"}) or 0
        m.llm = LLMReranker(f"http://127.0.0.1:{port}/v1", "test-model", timeout_s=2)
        pred = m.classify("I want to cancel my order")
        assert pred.reranker == "embedding" and pred.intent == "cancel_order" and pred.also == []
        assert REGISTRY.get_sample_value("kefu_intent_llm_fallback_total", {"reason": "invalid"}) == before + 1
    finally:
        server.should_exit = True
    # LLM gone: the embedding re-ranker's answer is used and the fallback counted
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    before = REGISTRY.get_sample_value("kefu_intent_llm_fallback_total", {"reason": "unavailable"}) or 0
    m.llm = LLMReranker(f"http://127.0.0.1:{dead}/v1", "test-model", timeout_s=1)
    pred = m.classify("I want to cancel my order")
    assert pred.stage == "rerank" and pred.reranker == "embedding" and pred.intent == "cancel_order"
    after = REGISTRY.get_sample_value("kefu_intent_llm_fallback_total", {"reason": "unavailable"})
    assert after == before + 1
