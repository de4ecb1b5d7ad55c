"""One engine step's worth of tokens, flattened across sequences (vLLM-style varlen batch).

Per-token work (projections, norms, MoE) runs on the flat [N, H] stream with no padding; only
attention needs per-sequence structure, which `q_index`/`mask` provide. A step may mix prefills
(many tokens of a new sequence) and decodes (one token each) in one forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class StepBatch:
    input_ids: torch.Tensor  # [N] long
    positions: torch.Tensor  # [N] absolute positions
    token_slot: torch.Tensor  # [N] cache slot of each token
    slots: torch.Tensor  # [B]
    q_lens: list[int]
    kv_lens: list[int]  # tokens in the cache for each sequence after this step
    decode_only: bool
    q_index: torch.Tensor | None  # [B, Tq] flat index per padded query (N = padding row)
    q_valid: torch.Tensor | None  # [B, Tq] bool
    mask: torch.Tensor  # [B, Tq, S] bool, True = may attend
    last_index: torch.Tensor  # [B] flat index of each sequence's last token

    @property
    def kv_span(self) -> int:
        return self.mask.shape[-1]

    @classmethod
    def build(cls, seqs: list[tuple[int, list[int], int]], device: torch.device | str = "cpu") -> StepBatch:
        """seqs: (slot, new token ids, position of the first new token) per sequence."""
        ids: list[int] = []
        pos: list[int] = []
        tslot: list[int] = []
        q_lens, kv_lens, slots = [], [], []
        for slot, toks, start in seqs:
            ids.extend(toks)
            pos.extend(range(start, start + len(toks)))
            tslot.extend([slot] * len(toks))
            q_lens.append(len(toks))
            kv_lens.append(start + len(toks))
            slots.append(slot)
        n, b = len(ids), len(seqs)
        span = max(kv_lens)
        tq = max(q_lens)
        decode_only = tq == 1
        kv = torch.tensor(kv_lens)
        keys = torch.arange(span)
        if decode_only:
            mask = (keys[None, :] < kv[:, None])[:, None, :]
            q_index = q_valid = None
            last = torch.arange(b)
        else:
            ql = torch.tensor(q_lens)
            starts = torch.cumsum(ql, 0) - ql
            i = torch.arange(tq)
            q_valid = i[None, :] < ql[:, None]
            q_index = torch.where(q_valid, starts[:, None] + i[None, :], torch.full_like(q_valid, n, dtype=torch.long))
            qpos = (kv - ql)[:, None] + i[None, :]  # [B, Tq]
            mask = keys[None, None, :] <= qpos[:, :, None]
            mask = mask | (~q_valid[:, :, None] & (keys[None, None, :] == 0))  # padding rows see key 0
            last = starts + ql - 1
        t = lambda x: torch.tensor(x, dtype=torch.long, device=device)  # noqa: E731
        return cls(
            input_ids=t(ids), positions=t(pos), token_slot=t(tslot), slots=t(slots), q_lens=q_lens,
            kv_lens=kv_lens, decode_only=decode_only,
            q_index=None if q_index is None else q_index.to(device),
            q_valid=None if q_valid is None else q_valid.to(device),
            mask=mask.to(device), last_index=last.to(device),
        )

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """[N, ...] -> [B, Tq, ...] (padding rows are zeros)."""
        if self.decode_only:
            return x[:, None]
        padded = torch.cat([x, x.new_zeros((1, *x.shape[1:]))], dim=0)
        return padded[self.q_index]

    def unpad(self, x: torch.Tensor) -> torch.Tensor:
        """[B, Tq, ...] -> [N, ...] in flat order."""
        if self.decode_only:
            return x[:, 0]
        return x[self.q_valid]
