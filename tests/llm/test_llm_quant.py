"""Weight-only INT8: smaller weights, logits close to float32, same greedy choice mostly."""

from __future__ import annotations

from pathlib import Path

import torch

from services.llm.model.batch import StepBatch
from services.llm.model.loader import load_hf_folder
from services.llm.model.quant import Int8Linear, quantize_int8, weight_bytes


def test_int8_shrinks_llama_and_stays_close(tiny_llama_dir: Path) -> None:
    loaded = load_hf_folder(tiny_llama_dir)
    lm = loaded.model
    ids = list(range(3, 43))
    ref = lm(StepBatch.build([(0, ids, 0)]), lm.allocate_cache(1, 64), all_logits=True)
    before = weight_bytes(lm)
    n = quantize_int8(lm)
    assert n == 2 * 7 and any(isinstance(m, Int8Linear) for m in lm.modules())
    assert weight_bytes(lm) < 0.6 * before  # the embedding (tied head) stays float
    out = lm(StepBatch.build([(0, ids, 0)]), lm.allocate_cache(1, 64), all_logits=True)
    rel = (out - ref).norm() / ref.norm()
    assert 0 < rel.item() < 0.05
    assert (out.argmax(-1) == ref.argmax(-1)).float().mean().item() > 0.8
    assert torch.isfinite(out).all()
