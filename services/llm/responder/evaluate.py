"""Held-out evaluation of a responder: does it copy facts, and does it answer the intent?

Held-out contexts use order/product id ranges and brand names that training never saw, so a
reply can only be right by copying from the context. Greedy decoding with transformers'
`generate()` (the reference implementation; the engine's parity tests tie it to kefu's engine).

- fact_copy_accuracy: replies in which every stated fact (order/product id, price, date,
  tracking number, any number, product name) occurs in the context.
- hallucination_rate: replies stating at least one fact that is not in the context.
- intent_answer_rate: replies that contain every fact the intent calls for (the order status
  and id for order_status, the tracking number for shipping, the policy sentence for returns, ...)
  or, for fact-free intents (greeting, human_agent, ...), the phrase that answers them.

    python -m services.llm.responder.evaluate --model DIR --json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from services.llm.responder.corpus import BRANDS_HELDOUT, BRANDS_TRAIN, ORDER_IDS, Sample, generate, real_brands
from services.llm.responder.delex import PLACEHOLDERS, parse_facts, relexicalise
from services.llm.responder.threads import auto_threads

_FACT_PATTERNS = (
    ("order_id", re.compile(ORDER_IDS.pattern)),  # the corpus's ids, by kefu.vocab's rule
    ("product_id", re.compile(r"\bP\d{3,}")),
    ("date", re.compile(r"\d{4}-\d{2}-\d{2}")),
    ("tracking", re.compile(r"\b(?=[A-Z0-9]*\d)[A-Z0-9]{9,}\b")),
    ("price", re.compile(r"\d+\.\d{2}")),
    ("number", re.compile(r"\d+(?:\.\d+)?")),
)
_BRANDS = tuple(sorted(set(BRANDS_TRAIN) | set(BRANDS_HELDOUT) | set(real_brands()), key=len, reverse=True))


def extract_facts(reply: str) -> list[tuple[str, str]]:
    """(kind, text) of every checkable fact in a reply; numbers inside longer facts count once."""
    facts: list[tuple[str, str]] = []
    covered: list[tuple[int, int]] = []
    for kind, pat in _FACT_PATTERNS:
        for m in pat.finditer(reply):
            if any(a <= m.start() and m.end() <= b for a, b in covered):
                continue
            covered.append((m.start(), m.end()))
            facts.append((kind, m.group(0)))
    for b in _BRANDS:
        if re.search(rf"\b{re.escape(b)}\b", reply):
            facts.append(("brand", b))
    return facts


def context_text(s: Sample) -> str:
    return "\n".join(m["content"] for m in s.messages)


def titles_in_context(s: Sample) -> list[str]:
    from kefu.prompting import product_title

    titles = [product_title(p, s.lang) for p in s.ctx.products]
    if s.ctx.order:
        for it in s.ctx.order.get("items") or []:
            titles += [t for t in (it.get("title"), it.get("title_zh")) if t]
    return titles


def score_reply(s: Sample, reply: str) -> dict[str, Any]:
    """Grade one reply against its sample."""
    ctx = context_text(s)
    facts = extract_facts(reply)
    unsupported = [f for f in facts if f[1] not in ctx]
    titles = titles_in_context(s)
    for kind, brand in facts:
        # A named product must be a whole title from the context, not a brand with invented words.
        if kind == "brand" and brand in ctx and not any(brand in t and t in reply for t in titles):
            unsupported.append(("name", brand))
    answered = all(x in reply for x in s.required) and (not s.markers or any(m in reply for m in s.markers))
    return {
        "facts": len(facts),
        "unsupported": unsupported,
        "answered": answered,
        "exact": reply.strip() == s.reply.strip(),
    }


def generate_reply(
    model: Any, tok: Any, messages: list[dict[str, str]], max_new_tokens: int = 96, constrained: bool = False
) -> tuple[str, bool]:
    """Greedy reply through the chat template; (text, ended with EOS)."""
    import torch
    from transformers import LogitsProcessorList

    from services.llm.responder.grounding import NumberCopyLogitsProcessor

    prompt = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    ids = tok(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"]
    procs = LogitsProcessorList([NumberCopyLogitsProcessor(tok, [ids[0].tolist()])] if constrained else [])
    with torch.no_grad():
        out = model.generate(
            input_ids=ids,
            logits_processor=procs,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        )
    new = out[0, ids.shape[1] :].tolist()
    ended = tok.eos_token_id in new
    if ended:
        new = new[: new.index(tok.eos_token_id)]
    return tok.decode(new, skip_special_tokens=True).strip(), ended


def is_delex_tokenizer(tok: Any) -> bool:
    return PLACEHOLDERS[0] in tok.get_vocab()


def evaluate_model(
    model: Any,
    tok: Any,
    n: int = 200,
    seed: int = 0,
    show: int = 0,
    constrained: bool = False,
    delexicalised: bool | None = None,
) -> dict[str, Any]:
    """Metrics over n held-out samples; `constrained` decodes numbers with NumberCopyConstraint.

    A delexicalised model (placeholder tokens in its vocabulary, unless told) is scored on its
    RELEXICALISED replies — what the generation service returns — with the same checks."""
    if delexicalised is None:
        delexicalised = is_delex_tokenizer(tok)
    model.eval()
    rows = []
    t0 = time.perf_counter()
    for i, s in enumerate(generate(n, seed=seed, split="heldout", uniform=True)):
        rows.append(_grade(model, tok, s, constrained, delexicalised))
        if i < show:
            _print_row(s, rows[-1])
    return summarise(rows, delexicalised, time.perf_counter() - t0)


def _grade(model: Any, tok: Any, s: Sample, constrained: bool, delexicalised: bool) -> dict[str, Any]:
    """One greedy reply to the sample (relexicalised when the model writes placeholders), graded."""
    raw, ended = generate_reply(model, tok, s.messages, constrained=constrained)
    reply, missing = relexicalise(raw, parse_facts(s.messages[0]["content"])) if delexicalised else (raw, [])
    r = score_reply(s, reply)
    r.update(intent=s.intent, lang=s.lang, ended=ended, reply=reply, raw=raw, missing=missing)
    return r


def _print_row(s: Sample, r: dict[str, Any]) -> None:
    print(json.dumps({"intent": s.intent, "lang": s.lang, "reply": r["reply"], "raw": r["raw"], "reference": s.reply,
                      "unsupported": r["unsupported"], "answered": r["answered"]}, ensure_ascii=False))


def _rate(rows: list[dict[str, Any]], key: str) -> float:
    return round(sum(1 for x in rows if x[key]) / len(rows), 4) if rows else 0.0


def summarise(rows: list[dict[str, Any]], delexicalised: bool, seconds: float) -> dict[str, Any]:
    """The metrics of graded replies (see the module docstring), by language and intent too."""
    with_facts = [r for r in rows if r["facts"]]
    n_facts = sum(r["facts"] for r in rows)
    n_bad = sum(len(r["unsupported"]) for r in rows)
    intents = sorted({r["intent"] for r in rows})
    per_intent = {it: _rate([r for r in rows if r["intent"] == it], "answered") for it in intents}
    per_lang = {lg: _rate([r for r in rows if r["lang"] == lg], "answered") for lg in ("en", "zh")}
    return {
        "n": len(rows),
        "fact_copy_accuracy": round(sum(1 for r in with_facts if not r["unsupported"]) / max(1, len(with_facts)), 4),
        "fact_precision": round(1 - n_bad / max(1, n_facts), 4),
        "hallucination_rate": round(sum(1 for r in rows if r["unsupported"]) / len(rows), 4),
        "intent_answer_rate": _rate(rows, "answered"),
        "exact_match_rate": _rate(rows, "exact"),
        "eos_rate": _rate(rows, "ended"),
        "delexicalised": delexicalised,
        "missing_placeholder_rate": _rate(rows, "missing"),
        "replies_with_facts": len(with_facts),
        "facts_checked": n_facts,
        "ms_per_reply": round(seconds / len(rows) * 1000, 1),
        "intent_answer_by_lang": per_lang,
        "intent_answer_by_intent": per_intent,
        "failures": [
            {"intent": r["intent"], "lang": r["lang"], "reply": r["reply"], "unsupported": r["unsupported"]}
            for r in rows
            if r["unsupported"] or not r["answered"]
        ][:12],
    }


_TABLE_KEYS = ("fact_copy_accuracy", "fact_precision", "hallucination_rate", "intent_answer_rate", "exact_match_rate",
               "eos_rate", "ms_per_reply")


def results_markdown(res: dict[str, Any], meta: dict[str, Any], command: str) -> str:
    """The RESULTS.md section (the integrator merges it into BENCHMARKS.md)."""
    con = res.get("constrained") or {}
    lines = [
        "# Default responder (kefu-responder) — held-out evaluation",
        "",
        *_run_lines(meta, command),
        "",
        f"Held-out contexts (unseen order/product ids and brand names, every intent x en/zh): n = {res['n']}",
        "",
        "| metric | greedy | greedy + number-copy constraint |",
        "|---|---|---|",
        *(f"| {key} | {res[key]} | {con.get(key, '-')} |" for key in _TABLE_KEYS),
    ]
    by, cby = res["intent_answer_by_lang"], con.get("intent_answer_by_lang", {})
    lines.append(f"| intent_answer en / zh | {by['en']} / {by['zh']} | {cby.get('en', '-')} / {cby.get('zh', '-')} |")
    lines += [
        "",
        "Intent-answer rate per intent (greedy):",
        "",
        " · ".join(f"{k} {v}" for k, v in res["intent_answer_by_intent"].items()),
        "",
    ]
    return "\n".join(lines)


def _run_lines(meta: dict[str, Any], command: str) -> list[str]:
    """Date, machine, command, model and training of the evaluated run (from its meta.json)."""
    import platform

    cfg = meta.get("config", {})
    model = cfg.get("model", {})
    return [
        f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- Machine: {os.cpu_count()}-core CPU ({platform.machine()}), no GPU, shared with other jobs "
        f"(load average {os.getloadavg()[0]:.1f} at the end); torch {meta.get('torch', '?')}",
        f"- Command: `{command}`",
        f"- Model: DeepseekV3ForCausalLM, {meta.get('parameters', 0) / 1e6:.2f} M parameters "
        f"({meta.get('active_parameters', 0) / 1e6:.2f} M active per token), hidden {model.get('hidden_size')}, "
        f"{model.get('num_hidden_layers')} layers (first {model.get('first_k_dense_replace')} dense), "
        f"{model.get('n_routed_experts')} routed experts top-{model.get('num_experts_per_tok')} + "
        f"{model.get('n_shared_experts')} shared, MLA q_lora {model.get('q_lora_rank')} / kv_lora "
        f"{model.get('kv_lora_rank')}, vocab {cfg.get('vocab_size')} byte-level BPE",
        f"- Training: {meta.get('steps')} steps x batch {meta.get('batch_size')}, seed {meta.get('seed')}, "
        f"{meta.get('train_seconds')} s loop / {meta.get('total_seconds')} s total, "
        f"{meta.get('tokens_per_s')} tokens/s, loss {meta.get('first_loss')} -> {meta.get('final_loss')}, "
        f"corpus {meta.get('corpus_hash')}",
    ]


def load(folder: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(auto_threads())
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return model, tok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="held-out fact-copy evaluation of a responder folder")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--show", type=int, default=0, help="print the first N replies")
    p.add_argument("--json", action="store_true", help="last stdout line: one JSON object")
    p.add_argument("--constrained", action="store_true", help="also evaluate with number-copy constrained decoding")
    p.add_argument("--results", type=Path, default=None, help="also write a Markdown section to this file")
    a = p.parse_args(argv)
    model, tok = load(a.model)
    res = evaluate_model(model, tok, n=a.n, seed=a.seed, show=a.show)
    res["model"] = str(a.model)
    if a.constrained:
        res["constrained"] = evaluate_model(model, tok, n=a.n, seed=a.seed, constrained=True)
    meta_path = a.model / "meta.json"
    m = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    res["parameters"] = m.get("parameters")
    res["train_seconds"] = m.get("train_seconds")
    if a.results:
        cmd = "python -m services.llm.responder.evaluate " + " ".join(argv if argv is not None else sys.argv[1:])
        a.results.write_text(results_markdown(res, m, cmd))
    if a.json:
        print(json.dumps(res, ensure_ascii=False))
    else:
        print(json.dumps(res, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
