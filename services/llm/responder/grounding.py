"""Copy-constrained decoding for numbers: a digit the model emits must continue a number that is
in the prompt.

A tiny responder learns the shape of a reply long before it copies every digit reliably; this
constraint makes the digits of ids, prices, dates, stock counts and tracking numbers come from
the context by construction. It only masks logits (never adds text), so it composes with greedy
or sampled decoding, and it is a pure function of token ids that a serving engine can port.

Rules, over the prompt's maximal numeric runs (digit tokens, with a '.' between two digits):
- starting a number: the first digit must start some run (preferring runs that follow the same
  token as the one just generated, e.g. " KF" -> only order-id digits);
- inside a number: the next digit must continue a matching run; a non-digit may end the number
  only if the digits so far form a whole run (no truncated ids).
"""

from __future__ import annotations

from typing import Any

import torch


class NumberCopyConstraint:
    """Allowed-token logic for one prompt (token ids), independent of any framework."""

    def __init__(self, tok: Any, prompt_ids: list[int]) -> None:
        self.digits = {tok.convert_tokens_to_ids(str(d)) for d in range(10)}
        self.dot = tok.convert_tokens_to_ids(".")
        self.prompt = list(prompt_ids)
        self.runs: list[tuple[int | None, tuple[int, ...]]] = []
        ids, i = self.prompt, 0
        while i < len(ids):
            if ids[i] in self.digits:
                j = i + 1
                while j < len(ids) and (
                    ids[j] in self.digits or (ids[j] == self.dot and j + 1 < len(ids) and ids[j + 1] in self.digits)
                ):
                    j += 1
                self.runs.append((ids[i - 1] if i else None, tuple(ids[i:j])))
                i = j
            else:
                i += 1

    def _current(self, generated: list[int]) -> tuple[tuple[int, ...], int | None]:
        k = len(generated)
        while k > 0 and (
            generated[k - 1] in self.digits
            or (generated[k - 1] == self.dot and k > 1 and generated[k - 2] in self.digits)
        ):
            k -= 1
        prev = generated[k - 1] if k > 0 else (self.prompt[-1] if self.prompt else None)
        return tuple(generated[k:]), prev

    def rule(self, generated: list[int]) -> tuple[set[int], bool] | None:
        """(digits allowed next, whether non-digit tokens are allowed); None = unconstrained."""
        cur, prev = self._current(generated)
        if cur and cur[-1] == self.dot:
            cands = [d for _p, d in self.runs if d[: len(cur)] == cur and len(d) > len(cur)]
            if not cands:
                return None  # a sentence-ending '.' after a complete number
        pairs = [(p, d) for p, d in self.runs if d[: len(cur)] == cur]
        if not pairs:
            return (set(), True) if not cur else None  # no number in the prompt: none in the reply
        same = [d for p, d in pairs if p == prev]
        pool = same or [d for _p, d in pairs]
        nxt = {d[len(cur)] for d in pool if len(d) > len(cur)}
        if not cur:
            return nxt, True
        complete = any(len(d) == len(cur) for d in pool)
        return nxt, complete


class NumberCopyLogitsProcessor:
    """transformers LogitsProcessor wrapper (batch of prompts of equal length, no padding)."""

    def __init__(self, tok: Any, prompt_ids: list[list[int]]) -> None:
        self.cons = [NumberCopyConstraint(tok, p) for p in prompt_ids]
        self.plen = [len(p) for p in prompt_ids]
        self.digit_list = sorted(self.cons[0].digits)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for b, cons in enumerate(self.cons):
            rule = cons.rule(input_ids[b, self.plen[b] :].tolist())
            if rule is None:
                continue
            allowed, non_digits_ok = rule
            mask = torch.zeros_like(scores[b], dtype=torch.bool)
            if non_digits_ok:
                mask[:] = True
                mask[self.digit_list] = False
            for t in allowed:
                mask[t] = True
            if mask.any():
                scores[b] = scores[b].masked_fill(~mask, float("-inf"))
        return scores
