"""kefu's model code must reproduce transformers' own DeepseekV3 / Llama logits and greedy output."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from services.llm.model.batch import StepBatch
from services.llm.model.loader import load_hf_folder


def _hf(folder: Path):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()


def _greedy(lm, prompt: list[int], n: int) -> list[int]:
    """Prefill then one-token decode steps through kefu's cache."""
    cache = lm.allocate_cache(2, len(prompt) + n + 1)
    out: list[int] = []
    logits = lm(StepBatch.build([(1, prompt, 0)]), cache)
    for _ in range(n):
        nxt = int(logits[0].argmax())
        out.append(nxt)
        logits = lm(StepBatch.build([(1, [nxt], len(prompt) + len(out) - 1)]), cache)
    return out


@pytest.mark.parametrize("fixture", ["tiny_deepseek_dir", "tiny_deepseek_plain_dir", "tiny_llama_dir"])
def test_logits_and_greedy_match_transformers(fixture: str, request: pytest.FixtureRequest) -> None:
    folder = request.getfixturevalue(fixture)
    loaded = load_hf_folder(folder)
    hf = _hf(folder)
    torch.manual_seed(3)
    ids = torch.randint(3, 300, (1, 40))
    with torch.no_grad():
        ref = hf(ids).logits[0]
    ours = loaded.model(StepBatch.build([(0, ids[0].tolist(), 0)]), loaded.model.allocate_cache(1, 64),
                        all_logits=True)
    assert ours.shape == ref.shape
    assert (ours - ref).abs().max().item() < 1e-4
    # the check is not vacuous: logits vary across positions and vocab
    assert ref.std().item() > 1e-3

    prompt = ids[0, :12].tolist()
    with torch.no_grad():
        gen = hf.generate(ids[:, :12], max_new_tokens=16, do_sample=False, eos_token_id=None,
                          pad_token_id=2, min_new_tokens=16)
    assert _greedy(loaded.model, prompt, 16) == gen[0, 12:].tolist()


def test_mixed_batch_matches_single_sequences(tiny_deepseek_dir: Path) -> None:
    """A step mixing a prefill chunk with decodes in other slots gives each sequence its own logits."""
    lm = load_hf_folder(tiny_deepseek_dir).model
    torch.manual_seed(4)
    a, b = torch.randint(3, 300, (30,)).tolist(), torch.randint(3, 300, (9,)).tolist()
    ref_a = lm(StepBatch.build([(0, a, 0)]), lm.allocate_cache(1, 64), all_logits=True)
    ref_b = lm(StepBatch.build([(0, b, 0)]), lm.allocate_cache(1, 64), all_logits=True)
    cache = lm.allocate_cache(4, 64)
    lm(StepBatch.build([(3, b[:8], 0)]), cache)
    step = lm(StepBatch.build([(1, a[:20], 0), (3, b[8:], 8)]), cache, all_logits=True)
    assert torch.allclose(step[19], ref_a[19], atol=1e-5)
    assert torch.allclose(step[20], ref_b[8], atol=1e-5)
    step = lm(StepBatch.build([(1, a[20:], 20)]), cache)
    assert torch.allclose(step[0], ref_a[-1], atol=1e-5)


def test_moe_layers_route_to_experts(tiny_deepseek_dir: Path) -> None:
    lm = load_hf_folder(tiny_deepseek_dir).model
    moes = lm.moe_layers()
    assert [i for i, _ in moes] == [1, 2]  # first_k_dense_replace=1
    lm(StepBatch.build([(0, list(range(3, 43)), 0)]), lm.allocate_cache(1, 64))
    for _, moe in moes:
        assert int(moe.expert_counts.sum()) == 40 * 2  # every token to exactly top-2 experts
