"""Token sampling for a batch of requests with per-request temperature / top_p / seed."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class SamplingParams:
    """What a request asks of generation (OpenAI semantics: temperature 0 = greedy)."""

    max_tokens: int = 128
    temperature: float = 1.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    timeout_s: float | None = None
    ignore_eos: bool = False  # benchmarks: generate exactly max_tokens


def sample(logits: torch.Tensor, temperature: torch.Tensor, top_p: torch.Tensor,
           generators: list[torch.Generator | None]) -> torch.Tensor:
    """logits [B, V] float32 -> token ids [B]. Rows with temperature <= 0 are greedy."""
    out = logits.argmax(dim=-1)
    stochastic = (temperature > 0).nonzero().flatten().tolist()
    if not stochastic:
        return out
    rows = torch.tensor(stochastic)
    scaled = logits[rows] / temperature[rows, None]
    probs = scaled.softmax(dim=-1)
    sorted_p, order = probs.sort(dim=-1, descending=True)
    # keep the smallest prefix whose mass reaches top_p (the first token is always kept)
    drop = (sorted_p.cumsum(dim=-1) - sorted_p) >= top_p[rows, None]
    sorted_p = sorted_p.masked_fill(drop, 0.0)
    sorted_p = sorted_p / sorted_p.sum(dim=-1, keepdim=True)
    for j, r in enumerate(stochastic):
        pick = torch.multinomial(sorted_p[j], 1, generator=generators[r])
        out[r] = order[j, pick[0]]
    return out
