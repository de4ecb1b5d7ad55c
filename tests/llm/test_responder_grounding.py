"""Number-copy constrained decoding: whatever the logits say, emitted numbers come from the prompt."""

from __future__ import annotations

import re

import pytest
import torch

from services.llm.responder.batches import sample_text
from services.llm.responder.corpus import generate
from services.llm.responder.grounding import NumberCopyConstraint, NumberCopyLogitsProcessor
from services.llm.responder.tokenizer import render_prompt, train_tokenizer


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer([sample_text(s) for s in generate(200, seed=0)], 700)


def test_rules_follow_the_order_id(tok) -> None:
    s = next(
        x for x in generate(60, seed=0, split="heldout", uniform=True) if x.intent == "order_status" and x.ctx.order
    )
    oid = s.ctx.order["id"]
    prompt = tok(render_prompt(s.messages), add_special_tokens=False)["input_ids"]
    cons = NumberCopyConstraint(tok, prompt)
    gen = tok("Order KF", add_special_tokens=False)["input_ids"]
    allowed, free = cons.rule(gen)
    assert free and tok.convert_ids_to_tokens(sorted(allowed)) == [oid[2]]  # only the id's first digit
    gen += tok.convert_tokens_to_ids(list(oid[2:5]))
    allowed, free = cons.rule(gen)
    assert not free and tok.convert_ids_to_tokens(sorted(allowed)) == [oid[5]]  # no truncated id
    gen += tok.convert_tokens_to_ids(list(oid[5:]))
    allowed, free = cons.rule(gen)
    assert free and not allowed


def test_random_logits_still_copy_numbers(tok) -> None:
    torch.manual_seed(0)
    for s in generate(42, seed=1, split="heldout", uniform=True):
        prompt = tok(render_prompt(s.messages), add_special_tokens=False)["input_ids"]
        proc = NumberCopyLogitsProcessor(tok, [prompt])
        seq = torch.tensor([prompt])
        digits = torch.tensor(sorted(proc.cons[0].digits))
        for _ in range(40):
            scores = torch.randn(1, len(tok))
            scores[0, digits] += 3.0  # a model that loves digits
            nxt = proc(seq, scores).argmax(-1, keepdim=True)
            seq = torch.cat([seq, nxt], dim=1)
        text = tok.decode(seq[0, len(prompt) :].tolist())
        context = "\n".join(m["content"] for m in s.messages)
        for num in re.findall(r"\d+(?:\.\d+)?", text):
            assert num in context, (num, text)
