"""DeepSeek-style mixture-of-experts feed-forward with grouped dispatch.

What changed from the seed's `MoEGating`, and why
-------------------------------------------------
The seed scored tokens with a linear gate, took the top-k *logits*, scattered them into a `-inf`
tensor and softmaxed that, then looped over the k slots building a boolean scatter mask per
expert and running each expert on the masked tokens.

Kept: a linear router with no bias, k experts per token (2 of 16 by default), gated SiLU experts
and the weighted sum of the chosen experts' outputs.

Changed:
* **Scores over all routed experts first, then top-k.** Softmaxing only the top-k logits makes the
  weights depend on which experts lost (they are gone from the normaliser) and differs from what
  DeepSeek checkpoints were trained with. We softmax over all experts (DeepSeek-V2 /
  `scoring_func: softmax`) or take per-expert sigmoids (DeepSeek-V3), select top-k, then
  **renormalise** over the chosen k when `norm_topk_prob` (V3) and multiply by
  `routed_scaling_factor`, exactly as the released models do.
* **Grouped top-k (DeepSeek-V3 `noaux_tc`)**: experts are split into `n_group` groups; each group is
  scored by the sum of its two best (bias-corrected) scores, only the `topk_group` best groups may
  be chosen, and `e_score_correction_bias` steers *selection* but not the weights (auxiliary-loss
  free load balancing).
* **Shared experts** run on every token and are added (the seed had none).
* **Grouped dispatch**: the (token, expert) pairs are sorted by expert once (one `argsort`, one
  `bincount`); every expert's contiguous run of pairs goes through that expert once, and the
  weighted outputs are summed back per token with `index_add_`. There is no Python loop over
  tokens. The seed's loop ran k x E masked passes: k times more expert calls on half-size batches
  (each reading that expert's weights again), each with a full-size mask, a gather and a scatter.
  Three ways to run the experts, chosen by batch size (all measured, bench/llm/RESULTS.md):
  - one token (single-sequence decode): its k experts in turn, no sort (~20 % faster than sorting);
  - small and mid batches on CPU: two `F.grouped_mm` calls (gate+up, down) over all experts'
    slices and one SiLU x up over all rows, so no Python loop over experts either (1.2-1.5x the
    per-expert loop at the default responder's size, identical output);
  - large batches (intermediates over 4 MiB), and devices other than CPU: one expert at a time,
    gather -> GEMMs -> weighted `index_add_`, which keeps each slice in cache (1.3x faster than
    `grouped_mm` at 1024 tokens, hidden 512).
* **No padded batched GEMM.** An earlier version padded every expert's slice to the largest one and
  ran all E experts as two `torch.bmm` calls for small batches. Measured on CPU it was up to 25x
  slower than running only the active experts (1 token: 1.8 ms vs 0.09 ms at hidden 512): it
  reads all E experts' weights, inactive ones included, and multiplies zero rows. Also measured
  and not kept: gathering per-token expert weights (copies weights, 3-20x slower), a
  pre-transposed weight layout and in-place SiLU (both within noise).

`expert_counts` accumulates how many tokens each expert received (per layer) so the engine can
export expert load balance as metrics.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from services.llm.model.config import ModelConfig
from services.llm.model.layers import ACTS, GatedMLP

GROUPED_MM = hasattr(F, "grouped_mm")  # torch >= 2.10; the tests switch it off to check the loop
_GROUPED_MM_DTYPES = (torch.float32, torch.bfloat16, torch.float16)  # its CPU kernel has no float64
# Above this many bytes of per-batch intermediates the per-expert loop wins on CPU (1 MiB of L2 per
# core here). Measured at hidden 512: equal at 3.5 MiB, loop 1.25-1.33x faster from 5.2 MiB on; at
# hidden 192 grouped_mm leads up to 2.6 MiB and they are equal from 3.9 MiB.
GROUPED_MM_MAX_BYTES = 4 << 20


class Router(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_experts = cfg.n_routed_experts
        self.top_k = cfg.num_experts_per_tok
        self.n_group = max(cfg.n_group, 1)
        self.topk_group = max(cfg.topk_group, 1)
        self.norm_topk_prob = cfg.norm_topk_prob
        self.scale = cfg.routed_scaling_factor
        self.scoring = cfg.scoring_func
        self.method = cfg.topk_method
        self.weight = nn.Parameter(torch.zeros(self.n_experts, cfg.hidden_size))
        self.register_buffer("e_score_correction_bias", torch.zeros(self.n_experts))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [N, H] -> (weights [N, k] float32, expert ids [N, k])."""
        logits = F.linear(x.float(), self.weight.float())
        scores = logits.sigmoid() if self.scoring == "sigmoid" else logits.softmax(dim=-1)
        choice = scores
        if self.method == "noaux_tc":
            choice = scores + self.e_score_correction_bias
        if self.n_group > 1 and self.method in {"noaux_tc", "group_limited_greedy"}:
            grouped = choice.view(-1, self.n_group, self.n_experts // self.n_group)
            if self.method == "noaux_tc":
                group_scores = grouped.topk(2, dim=-1)[0].sum(dim=-1)
            else:
                group_scores = grouped.amax(dim=-1)
            group_idx = group_scores.topk(self.topk_group, dim=-1, sorted=False)[1]
            keep = torch.zeros_like(group_scores, dtype=torch.bool).scatter_(1, group_idx, True)
            keep = keep[:, :, None].expand_as(grouped).reshape(-1, self.n_experts)
            choice = choice.masked_fill(~keep, float("-inf"))
        idx = choice.topk(self.top_k, dim=-1, sorted=False)[1]
        w = scores.gather(1, idx)
        if self.norm_topk_prob and self.top_k > 1:
            w = w / (w.sum(dim=-1, keepdim=True) + 1e-20)
        return w * self.scale, idx


class Experts(nn.Module):
    """All routed experts' weights stacked, so dispatch indexes them instead of walking modules."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        e, h, i = cfg.n_routed_experts, cfg.hidden_size, cfg.moe_intermediate_size
        self.gate_up = nn.Parameter(torch.empty(e, 2 * i, h))
        self.down = nn.Parameter(torch.empty(e, h, i))
        self.act = ACTS[cfg.hidden_act]
        self.inter = i

    def run(self, e: int, x: torch.Tensor) -> torch.Tensor:
        gu = F.linear(x, self.gate_up[e])
        return F.linear(self.act(gu[:, : self.inter]) * gu[:, self.inter:], self.down[e])

    def grouped_mm(self, xs: torch.Tensor, counts: torch.Tensor) -> torch.Tensor:
        """xs: rows sorted by expert, `counts[e]` of them for expert e -> each row through its expert,
        as two `F.grouped_mm` calls (gate+up, down) and one SiLU x up over all rows."""
        offs = torch.cumsum(counts, 0, dtype=torch.int32)
        gu = F.grouped_mm(xs, self.gate_up.transpose(1, 2), offs=offs)
        h = self.act(gu[:, : self.inter]) * gu[:, self.inter:]
        return F.grouped_mm(h, self.down.transpose(1, 2), offs=offs)


class MoE(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.gate = Router(cfg)
        self.experts = Experts(cfg)
        self.n_experts = cfg.n_routed_experts
        self.shared_experts = (
            GatedMLP(cfg.hidden_size, cfg.moe_intermediate_size * cfg.n_shared_experts, cfg.hidden_act)
            if cfg.n_shared_experts else None
        )
        self.register_buffer("expert_counts", torch.zeros(cfg.n_routed_experts, dtype=torch.int64),
                             persistent=False)
        self.track = True

    def dispatch(self, x: torch.Tensor, w: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Grouped dispatch: sort (token, expert) pairs by expert, run each active expert once."""
        n, k = idx.shape
        flat = idx.reshape(-1)
        counts = torch.bincount(flat, minlength=self.n_experts)
        if self.track:
            self.expert_counts += counts
        if n == 1:
            return self._single(x, w, flat)
        order = torch.argsort(flat, stable=True)
        token_of = order // k
        ws = w.reshape(-1)[order].to(x.dtype)[:, None]
        if self._use_grouped_mm(x, n * k):
            out = self.experts.grouped_mm(x.index_select(0, token_of), counts)
            return torch.zeros_like(x).index_add_(0, token_of, out.mul_(ws))
        y = torch.zeros_like(x)
        start = 0
        for e, c in enumerate(counts.tolist()):
            if c:
                tok = token_of[start:start + c]
                out = self.experts.run(e, x.index_select(0, tok))
                y.index_add_(0, tok, out.mul_(ws[start:start + c]))
                start += c
        return y

    def _use_grouped_mm(self, x: torch.Tensor, rows: int) -> bool:
        """`F.grouped_mm` on CPU while its whole-batch intermediates stay small; past that, one
        expert at a time keeps each slice's gather -> GEMMs -> scatter in cache (1.3x faster at
        1024 tokens, hidden 512)."""
        ex = self.experts
        working_set = rows * (2 * x.shape[1] + 3 * ex.inter) * x.element_size()  # xs, gate|up, h, out
        return (GROUPED_MM and x.device.type == "cpu" and x.dtype in _GROUPED_MM_DTYPES
                and working_set <= GROUPED_MM_MAX_BYTES)

    def _single(self, x: torch.Tensor, w: torch.Tensor, experts: torch.Tensor) -> torch.Tensor:
        """One token (decode at batch 1): its k experts in turn, no sort, gather or scatter."""
        w = w.to(x.dtype)
        y = torch.zeros_like(x)
        for j, e in enumerate(experts.tolist()):
            y += self.experts.run(e, x) * w[:, j:j + 1]
        return y

    def dispatch_naive(self, x: torch.Tensor, w: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """The seed's scheme (k x E masked passes), kept as the benchmark baseline."""
        y = torch.zeros_like(x)
        for slot in range(idx.shape[1]):
            for e in range(self.n_experts):
                mask = idx[:, slot] == e
                if mask.any():
                    y[mask] += self.experts.run(e, x[mask]) * w[mask, slot, None].to(x.dtype)
        return y

    def forward(self, x: torch.Tensor, naive: bool = False) -> torch.Tensor:
        w, idx = self.gate(x)
        y = (self.dispatch_naive if naive else self.dispatch)(x, w, idx)
        if self.shared_experts is not None:
            y = y + self.shared_experts(x)
        return y
