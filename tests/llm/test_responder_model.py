"""A responder trained for a few steps is a genuine Hugging Face DeepSeek-V3 folder: it reloads,
its chat template renders the training format, it generates, and ensure_default is idempotent."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from kefu.settings import Settings
from services.llm.responder import cli as responder_cli
from services.llm.responder import train as T
from services.llm.responder.batches import collate, encode, encode_all
from services.llm.responder.corpus import generate
from services.llm.responder.evaluate import evaluate_model, generate_reply
from services.llm.responder.network import reply_loss
from services.llm.responder.tokenizer import CHAT_TEMPLATE, render_prompt
from tests.llm.conftest import tiny_config


def test_folder_is_a_deepseek_v3_checkpoint(tiny_responder: Path) -> None:
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "meta.json"):
        assert (tiny_responder / name).exists(), name
    cfg = json.loads((tiny_responder / "config.json").read_text())
    assert cfg["architectures"] == ["DeepseekV3ForCausalLM"] and cfg["model_type"] == "deepseek_v3"
    assert cfg["n_routed_experts"] == 16 and cfg["num_experts_per_tok"] == 2 and cfg["n_shared_experts"] == 1
    assert cfg["first_k_dense_replace"] == 1 and cfg["num_hidden_layers"] > cfg["first_k_dense_replace"]
    tconf = json.loads((tiny_responder / "tokenizer_config.json").read_text())
    assert tconf["chat_template"] == CHAT_TEMPLATE and tconf["eos_token"] == "<|end|>"
    meta = json.loads((tiny_responder / "meta.json").read_text())
    for key in ("seed", "steps", "corpus_hash", "metrics", "created_at", "final_loss"):
        assert key in meta
    assert meta["steps"] == 6 and meta["final_loss"] < meta["first_loss"] + 1.0
    assert not (tiny_responder.parent / (tiny_responder.name + ".tmp")).exists()


def test_chat_template_renders_the_training_format(tiny_responder: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_responder)
    for s in generate(42, seed=5):
        text = tok.apply_chat_template(s.messages, add_generation_prompt=True, tokenize=False)
        assert text == render_prompt(s.messages)
        assert text.endswith("<|assistant|>\n")
        ids, plen = encode(tok, s)
        # Prompt and reply tokenized apart == the whole text tokenized at once: no boundary drift.
        assert ids == tok(text + s.reply + "<|end|>", add_special_tokens=False)["input_ids"]
        assert ids[-1] == tok.eos_token_id and ids[plen - 1] == tok.convert_tokens_to_ids("\u010a")
    full = tok.apply_chat_template([*s.messages, {"role": "assistant", "content": s.reply}], tokenize=False)
    assert full == render_prompt(s.messages) + s.reply + "<|end|>\n"
    # Chinese and digits survive a round trip; digits are one token each (copy-friendly).
    text = "订单 KF123456 已发货，单号 SF0012"
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text
    assert tok.tokenize(" 2025") == ["\u0120", "2", "0", "2", "5"]


def test_checkpoint_reloads_and_generates(tiny_responder: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(tiny_responder, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(tiny_responder)
    assert type(model).__name__ == "DeepseekV3ForCausalLM"
    s = generate(1, seed=0, split="heldout")[0]
    reply, _ended = generate_reply(model, tok, s.messages, max_new_tokens=8)
    assert isinstance(reply, str)
    ids = tok(render_prompt(s.messages), add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(input_ids=ids, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == ids.shape[1] + 5 or tok.eos_token_id in out[0, ids.shape[1] :].tolist()
    metrics = evaluate_model(model, tok, n=2)
    assert metrics["n"] == 2 and 0.0 <= metrics["intent_answer_rate"] <= 1.0


def test_training_is_deterministic(tiny_responder: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    T.train(again, tiny_config())
    a, b = load_file(tiny_responder / "model.safetensors"), load_file(again / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = tmp_path / "other"
    T.train(other, tiny_config(seed=1))
    c = load_file(other / "model.safetensors")
    assert any(not torch.equal(a[k], c[k]) for k in a if k in c)


def test_ensure_default_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tiny = tiny_config()
    monkeypatch.setattr(T.TrainConfig, "quick", classmethod(lambda cls, seed=0: tiny))
    settings = Settings(data_dir=tmp_path)
    out = T.ensure_default(settings, quick=True)
    assert out == tmp_path / "models" / "llm" / "kefu-responder" and T.is_complete(out)
    stamp = (out / "model.safetensors").stat().st_mtime_ns
    assert T.ensure_default(settings, quick=True) == out
    assert (out / "model.safetensors").stat().st_mtime_ns == stamp  # not retrained
    (out / "meta.json").unlink()  # an incomplete folder is rebuilt
    T.ensure_default(settings, quick=True)
    assert T.is_complete(out)


def test_cli_registers_train_and_eval() -> None:
    parser = argparse.ArgumentParser()
    llm = parser.add_subparsers(dest="cmd").add_parser("llm").add_subparsers(dest="llm_cmd")
    responder_cli.register(llm)
    args = parser.parse_args(["llm", "train", "--steps", "5", "--seed", "2", "--minutes", "1", "--data-dir", "x"])
    assert args.func is responder_cli._cmd_train and args.steps == 5 and args.seed == 2 and args.data_dir == "x"
    args = parser.parse_args(["llm", "eval-responder", "--json", "--n", "3"])
    assert args.func is responder_cli._cmd_eval and args.json and args.n == 3


def test_reply_loss_matches_transformers_loss(tiny_responder: Path) -> None:
    """The trainer's reply-only loss (LM head on labelled positions only) equals the HF loss."""
    model = AutoModelForCausalLM.from_pretrained(tiny_responder, dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(tiny_responder)
    enc = [encode(tok, s) for s in generate(4, seed=9)]
    ids, labels, weights = collate(enc, [0, 1, 2, 3], tok.pad_token_id)
    with torch.no_grad():
        ref = model(input_ids=ids, attention_mask=(ids != tok.pad_token_id).long(), labels=labels).loss
        ours = reply_loss(model, ids, labels)
        same = reply_loss(model, ids, labels, weights)  # all weights 1
    assert torch.allclose(ref, ours, atol=1e-4), (ref, ours)
    assert torch.allclose(ref, same, atol=1e-4), (ref, same)


def test_fact_tokens_are_marked_for_weighting(tiny_responder: Path) -> None:
    tok = AutoTokenizer.from_pretrained(tiny_responder)
    s = next(x for x in generate(40, seed=2) if x.intent == "order_status" and x.required)
    ((ids, plen, fact),) = encode_all(tok, [s])
    marked = tok.decode([t for t, f in zip(ids[plen:], fact, strict=True) if f])
    assert s.required[0] in marked and "<|end|>" not in marked
    _ids, _labels, weights = collate([(ids, plen, fact)], [0], tok.pad_token_id, fact_weight=3.0)
    assert weights[0, :plen].sum() == 0 and (weights[0, plen:] == 3.0).sum() == sum(fact)


def test_time_budget_caps_the_step_count(tmp_path: Path) -> None:
    cfg = tiny_config()
    cfg.steps, cfg.minutes = 40, 0.01  # 0.6 s: the planner must cut the run short
    meta = T.train(tmp_path / "budget", cfg)
    assert 1 <= meta["steps"] < 40 and meta["planned_steps"] == 40
    assert T.is_complete(tmp_path / "budget")


def test_eval_command_prints_json_metrics(tiny_responder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(model=str(tiny_responder), n=2, seed=0, show=0, json=True, constrained=True)
    assert responder_cli._cmd_eval(args) == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("n", "fact_copy_accuracy", "hallucination_rate", "intent_answer_rate", "constrained"):
        assert key in res
    assert res["n"] == 2 and res["constrained"]["n"] == 2
    missing = argparse.Namespace(model=str(tiny_responder.parent / "nope"), n=2, seed=0, show=0, json=True,
                                 constrained=False)
    assert responder_cli._cmd_eval(missing) == 2
