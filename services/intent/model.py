"""The cascade: fastText answers when sure; otherwise the re-ranker decides among its top-k.

A loaded `IntentModel` is immutable, so the service swaps whole models on reload and a request
in flight finishes on the model it started with.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import Counter

from kefu import tracing
from services.intent import ft, llm_understand, rerank
from services.intent.encoder import Encoder, get_encoder
from services.intent.llm_understand import Understood
from services.intent.registry import META
from services.intent.text import clean, ft_line, warm_up

log = logging.getLogger("kefu.intent")

PREDICTIONS = Counter("kefu_intent_predictions_total", "Intent predictions by deciding stage",
                      ["stage", "out_of_scope"])
AGREEMENT = Counter("kefu_intent_rerank_agreement_total",
                    "Re-ranked messages: did the re-ranker keep fastText's top-1 (agree) or change it",
                    ["reranker", "outcome"])
LLM_FALLBACKS = Counter("kefu_intent_llm_fallback_total",
                        "LLM re-ranker calls answered by the embedding re-ranker instead", ["reason"])

DEFAULT_OOS = "out_of_scope"
MODES = ("cascade", "fasttext", "rerank", "embedding")


@dataclass
class Prediction:
    intent: str
    confidence: float
    stage: str  # 'fasttext' | 'rerank'
    candidates: list[tuple[str, float]]
    out_of_scope: bool = False
    fasttext_intent: str = ""
    fasttext_confidence: float = 0.0
    reranker: str | None = None
    latency_ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # From the LLM's structured reading only: a second need, slots it read, the goal update.
    also: list[str] = field(default_factory=list)
    slots: dict[str, str] = field(default_factory=dict)
    goal: str | None = None


class LLMReranker:
    """Asks an OpenAI-compatible chat endpoint to read an unsure message as structured output
    (services.intent.llm_understand: intents, slots, goal update).

    Any failure (down, slow, not JSON of the schema, a label outside the taxonomy) returns None
    and the caller keeps the embedding re-ranker's answer; after a connection failure the LLM is
    skipped for a while so a dead generation service does not add its timeout to every message.
    """

    def __init__(self, base_url: str, model: str, timeout_s: float = 5.0, cooldown_s: float = 30.0,
                 headers: dict[str, str] | None = None, json_mode: str = "json_schema") -> None:
        import httpx

        base = base_url.rstrip("/")
        self.url = base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")
        self.model = model
        self.cooldown_s = cooldown_s
        self.json_mode = json_mode
        self._down_until = 0.0
        self._client = httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(1.0, timeout_s)),
                                    headers=headers)  # kefu.service_auth.llm_headers

    def understand(self, text: str, candidates: list[str], labels: list[str]) -> Understood | None:
        if time.monotonic() < self._down_until:
            LLM_FALLBACKS.labels("cooldown").inc()
            return None
        body: dict[str, Any] = {"model": self.model, "messages": llm_understand.messages(text, candidates, labels),
                                "max_tokens": 160, "temperature": 0}
        if self.json_mode != "prompt":
            body["response_format"] = llm_understand.response_format(labels, self.json_mode)
        try:
            resp = self._client.post(self.url, json=body)
            if resp.status_code == 400 and "response_format" in body and _rejects_format(resp):
                # kefu's own engine cannot constrain output: ask in the prompt alone from now on
                log.warning("llm engine rejects response_format; asking for JSON in the prompt only")
                self.json_mode = "prompt"
                body.pop("response_format")
                resp = self._client.post(self.url, json=body)
            resp.raise_for_status()
            answer = resp.json()["choices"][0]["message"]["content"] or ""
        except Exception as exc:  # any failure means: fall back
            self._down_until = time.monotonic() + self.cooldown_s
            LLM_FALLBACKS.labels("unavailable").inc()
            log.warning("llm re-ranker unavailable: %s", type(exc).__name__)
            return None
        got = llm_understand.parse(answer, labels, text)
        if got is None:
            LLM_FALLBACKS.labels("invalid").inc()
        return got


def _rejects_format(resp: Any) -> bool:
    try:
        return resp.json()["error"]["code"] == "unsupported_response_format"
    except (ValueError, KeyError, TypeError):
        return False


class IntentModel:
    """One trained model version: fastText stage, re-ranking heads, thresholds from meta.json."""

    def __init__(self, folder: Path, models_dir: Path, reranker: str = "embedding",
                 llm: LLMReranker | None = None, encoder: Encoder | None = None) -> None:
        self.folder = folder
        self.meta: dict[str, Any] = json.loads((folder / META).read_text(encoding="utf-8"))
        self.version: str = self.meta.get("version", folder.name)
        self.labels: list[str] = self.meta["labels"]
        self.label_index = {lab: i for i, lab in enumerate(self.labels)}
        self.fasttext = ft.FastTextStage.load(folder / self.meta["fasttext_file"], self.labels)
        self.heads = rerank.Heads.load(folder)
        cascade = self.meta["cascade"]
        self.tau = float(cascade["tau"])
        self.delta = float(cascade["delta"])
        self.mix_a = float(cascade["mix_a"])
        self.mix_w = float(cascade["mix_w"])
        self.rerank_k = int(cascade["rerank_k"])
        self.temperature = float(cascade["temperature"])
        oos = self.meta.get("oos", {})
        self.oos_label: str | None = oos.get("label")
        self.oos_threshold = float(oos.get("threshold", 0.0))
        self.oos_mass_k = int(oos.get("mass_k", 1))  # models trained before 2026-12-08 floor top-1 alone
        self.reranker = reranker if reranker in ("embedding", "llm", "none") else "embedding"
        self.llm = llm if self.reranker == "llm" else None
        self.encoder = encoder or get_encoder(models_dir, self.meta.get("encoder", {}).get("variant", "int8"))
        warm_up()
        self.classify("warm up the re-ranker", mode="rerank")

    # ------------------------------------------------------------------ decisions
    def needs_rerank(self, p_ft: np.ndarray) -> bool:
        top2 = np.sort(p_ft)[-2:] if len(p_ft) > 1 else np.array([0.0, p_ft.max()])
        return bool(top2[-1] < self.tau or (top2[-1] - top2[-2]) < self.delta)

    def _rerank_scores(self, texts: list[str], p_ft: np.ndarray, embedding_only: bool = False) -> np.ndarray:
        emb = self.encoder.encode(texts)
        p_emb = self.heads.emb_proba(emb)
        if embedding_only:
            return np.log(p_emb + rerank.EPS)
        p_tf = self.heads.tf_proba(texts)
        scores = rerank.mix(p_ft, p_emb, p_tf, self.mix_a, self.mix_w)
        return rerank.restrict_top_k(scores, p_ft, self.rerank_k)

    def _top(self, probs: np.ndarray, k: int) -> list[tuple[str, float]]:
        order = np.argsort(-probs)[:k]
        return [(self.labels[i], float(probs[i])) for i in order]

    def _finish(self, pred: Prediction, mass: float) -> Prediction:
        """`mass`: the message's k likeliest in-scope labels' summed probability (rerank.in_scope_mass),
        what the out-of-scope threshold is compared with."""
        if self.oos_label is not None and pred.intent == self.oos_label:
            pred.out_of_scope = True
        elif mass < self.oos_threshold and pred.reranker != "llm":  # the LLM decides OOS itself
            pred.out_of_scope = True
            pred.extra["below_threshold"] = True
            pred.intent = self.oos_label or DEFAULT_OOS
        PREDICTIONS.labels(pred.stage, str(pred.out_of_scope).lower()).inc()
        return pred

    def _ask_llm(self, pred: Prediction, text: str, probs: np.ndarray, k: int) -> None:
        """The LLM's structured reading replaces the embedding re-ranker's label when valid."""
        assert self.llm is not None
        cands = [lab for lab, _ in self._top(probs, max(k, 5))]
        got = self.llm.understand(text, cands, self.labels)
        if got is None:
            return
        pred.extra["embedding_intent"] = pred.intent
        pred.intent, pred.reranker = got.intents[0], "llm"
        pred.confidence = float(probs[self.label_index[got.intents[0]]])
        pred.also, pred.slots, pred.goal = got.intents[1:], got.slots, got.goal

    # ------------------------------------------------------------------ API
    def classify(self, text: str, k: int = 5, mode: str = "cascade") -> Prediction:
        pred = self.classify_batch([text], k=k, mode=mode)[0]
        tracing.annotate(**{"kefu.intent": pred.intent, "kefu.intent.stage": pred.stage,
                            "kefu.intent.reranker": pred.reranker, "kefu.intent.out_of_scope": pred.out_of_scope})
        return pred

    def classify_batch(self, texts: list[str], k: int = 5, mode: str = "cascade") -> list[Prediction]:
        """mode: 'cascade' (normal), 'fasttext' (stage 1 only), 'rerank' (always stage 2),
        'embedding' (MiniLM head alone, for benchmarks)."""
        t0 = time.perf_counter()
        cleaned = [clean(t) for t in texts]
        p_ft = np.stack([self.fasttext.predict_line(ft_line(t)) for t in cleaned]) if cleaned else \
            np.zeros((0, len(self.labels)))
        if mode == "fasttext" or self.reranker == "none":
            go = np.zeros(len(cleaned), dtype=bool)
        elif mode in ("rerank", "embedding"):
            go = np.ones(len(cleaned), dtype=bool)
        else:
            go = np.array([self.needs_rerank(p) for p in p_ft], dtype=bool)
        preds: list[Prediction] = []
        for p in p_ft:
            top = int(p.argmax())
            preds.append(Prediction(self.labels[top], float(p[top]), "fasttext", self._top(p, k),
                                    fasttext_intent=self.labels[top], fasttext_confidence=float(p[top])))
        idx = np.flatnonzero(go)
        final = p_ft.astype(np.float64)  # each message's probabilities from the stage that decided it
        if len(idx):
            sub = [cleaned[i] for i in idx]
            with tracing.span("intent.rerank", {"kefu.batch": len(sub)}):
                scores = self._rerank_scores(sub, p_ft[idx], embedding_only=(mode == "embedding"))
            probs = rerank.calibrated(scores, 1.0 if mode == "embedding" else self.temperature)
            final[idx] = probs
            for j, i in enumerate(idx):
                pred = preds[i]
                best = int(probs[j].argmax())
                pred.intent, pred.confidence = self.labels[best], float(probs[j][best])
                pred.stage, pred.reranker = "rerank", "embedding"
                pred.candidates = self._top(probs[j], k)
                if self.llm is not None and mode == "cascade":
                    self._ask_llm(pred, sub[j], probs[j], k)
                agree = pred.intent == pred.fasttext_intent
                AGREEMENT.labels(pred.reranker, "agree" if agree else "disagree").inc()
                if not agree:
                    log.debug("re-ranker changed intent", extra={"fields": {
                        "fasttext": pred.fasttext_intent, "fasttext_p": round(pred.fasttext_confidence, 3),
                        "reranked": pred.intent, "reranker": pred.reranker}})
        elapsed = (time.perf_counter() - t0) * 1000
        mass = rerank.in_scope_mass(final, self.label_index.get(self.oos_label or ""), self.oos_mass_k)
        for pred, m in zip(preds, mass, strict=True):
            pred.latency_ms = elapsed / max(1, len(preds))
            self._finish(pred, float(m))
        return preds
