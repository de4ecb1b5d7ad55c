"""The cascade decision: sure fastText answers alone, unsure messages go to the re-ranker."""

from __future__ import annotations

import copy

import numpy as np
from prometheus_client import REGISTRY

from services.intent.train import choose_thresholds


def _agreement_total() -> float:
    total = 0.0
    for outcome in ("agree", "disagree"):
        total += REGISTRY.get_sample_value("kefu_intent_rerank_agreement_total",
                                           {"reranker": "embedding", "outcome": outcome}) or 0.0
    return total


def test_confident_message_stays_with_fasttext(intent_model) -> None:
    pred = intent_model.classify("where is my order KF100001? it has not arrived yet")
    assert pred.intent == "order_status"
    assert pred.stage == "fasttext"
    assert pred.fasttext_confidence >= intent_model.tau


def test_forced_low_confidence_goes_to_rerank(intent_model) -> None:
    m = copy.copy(intent_model)
    m.tau = 1.01  # nothing is sure enough any more
    before = _agreement_total()
    pred = m.classify("where is my order KF100001? it has not arrived yet")
    assert pred.stage == "rerank"
    assert pred.reranker == "embedding"
    assert pred.intent == "order_status"
    assert _agreement_total() == before + 1


def test_margin_rule_sends_close_calls_to_rerank(intent_model) -> None:
    m = copy.copy(intent_model)
    m.tau, m.delta = 0.0, 0.5
    p = np.zeros(len(m.labels), dtype=np.float32)
    p[0], p[1] = 0.55, 0.45
    assert m.needs_rerank(p)
    p[0], p[1] = 0.95, 0.05
    assert not m.needs_rerank(p)


def test_thresholds_respect_the_budget() -> None:
    rng = np.random.default_rng(0)
    p1 = rng.uniform(0.2, 1.0, 1000)
    margin = p1 * 0.5
    ok_ft = rng.uniform(0, 1, 1000) < p1  # fastText is right more often when confident
    ok_rr = rng.uniform(0, 1, 1000) < 0.95
    th = choose_thresholds(p1, margin, ok_ft, ok_rr, budget=0.3)
    assert th["rerank_rate"] <= 0.3
    assert th["accuracy"] > ok_ft.mean()  # re-ranking the unsure ones pays
    go = (p1 < th["tau"]) | (margin < th["delta"])
    assert abs(go.mean() - th["rerank_rate"]) < 1e-9


def test_candidates_are_sorted_and_k_limited(intent_model) -> None:
    pred = intent_model.classify("I want to cancel my order", k=3)
    assert len(pred.candidates) == 3
    scores = [s for _, s in pred.candidates]
    assert scores == sorted(scores, reverse=True)
    assert pred.candidates[0][0] == pred.intent


def test_batch_matches_single(intent_model) -> None:
    texts = ["hello there", "cancel my order please", "我的退款什么时候到账"]
    batch = intent_model.classify_batch(texts)
    singles = [intent_model.classify(t) for t in texts]
    assert [b.intent for b in batch] == [s.intent for s in singles]
    assert [b.stage for b in batch] == [s.stage for s in singles]


def test_meta_records_thresholds_and_provenance(intent_model) -> None:
    meta = intent_model.meta
    for key in ("tau", "delta", "created_at", "params", "metrics"):
        assert key in meta
    assert len(meta["data"]["sha256"]) == 64
    assert 0.0 <= meta["metrics"]["validation"]["rerank_rate"] <= meta["params"]["rerank_budget"] + 1e-9


def test_the_out_of_scope_floor_reads_the_top_two_in_scope_labels() -> None:
    """A split between two near-synonym labels is not a thin spread: its top-2 mass clears the floor
    that a message no label fits (mass spread over many labels) does not; the OOS column never counts."""
    from services.intent.rerank import in_scope_mass

    split = [0.49, 0.47, 0.02, 0.02, 0.0]  # product_search vs stock_availability
    thin = [0.25, 0.2, 0.2, 0.2, 0.15]
    oos_heavy = [0.3, 0.05, 0.05, 0.0, 0.6]  # column 4 is out_of_scope
    mass = in_scope_mass(np.array([split, thin, oos_heavy]), oos_idx=4, k=2)
    assert mass[0] > 0.9 and mass[1] < 0.5 and abs(mass[2] - 0.35) < 1e-9
