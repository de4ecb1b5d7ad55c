"""`kefu intent train/eval` end to end on a small CSV, and the LLM re-ranker over real HTTP."""

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
from services.intent.model import IntentModel, LLMReranker, parse_choice


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


def test_parse_choice() -> None:
    cands = ["order_status", "cancel_order", "refund_status"]
    assert parse_choice("cancel_order", cands) == "cancel_order"
    assert parse_choice("Intent: `refund_status`.", cands) == "refund_status"
    assert parse_choice("no idea", cands) is None


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

    server, port, seen = _fake_llm("refund_status")
    try:
        m = copy.copy(intent_model)
        m.tau = 1.01  # force the re-rank stage
        m.reranker = "llm"
        m.llm = LLMReranker(f"http://127.0.0.1:{port}/v1", "test-model", timeout_s=2)
        pred = m.classify("my money from the return, where is it")
        assert pred.stage == "rerank" and pred.reranker == "llm"
        assert pred.intent == "refund_status"
        assert "refund_status" in seen[0]["messages"][-1]["content"]
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
