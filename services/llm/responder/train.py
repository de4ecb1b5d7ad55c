"""Train the default responder: a tiny DeepSeek-V3 MoE (transformers' native class) on the corpus.

Why these choices:
- transformers' `DeepseekV3ForCausalLM` so the saved folder is a genuine Hugging Face checkpoint
  that any loader (kefu's engine, vLLM, transformers) reads without conversion.
- A byte-level BPE tokenizer trained here on the corpus, with digits split one per token and
  CJK characters isolated: an id or a Chinese title then tokenizes identically in the FACTS and in
  the reply, which is what makes copying learnable by a model this small.
- Loss on reply tokens only (the prompt is given, never predicted).
- Aux-loss-free load balancing as in DeepSeek-V3: after each step every router's
  `e_score_correction_bias` moves towards under-used experts (no gradient, no extra loss).
- Budget-aware: the step count is planned (and re-planned every 100 steps until the decay phase)
  from the measured tokens/s; the warmup-stable-decay schedule makes the stable phase independent
  of the planned length, and a run with the same seed and `--steps` (no budget) is bit-identical.
  meta.json records every re-plan.
- Delexicalised replies (default, `delex.py`): the reply names each fact by a placeholder token
  (`[order.tracking]`) that the server fills from the prompt's FACTS, so the model learns which
  fact to state and how to phrase it, never to copy 16 digits (the skill it could not learn in
  minutes: 4 % fact-copy accuracy before). Placeholder tokens carry the fact loss weight.
- Copy drills (reply = one FACTS line verbatim, `drill_fraction`) only help a model that must copy;
  they are off by default since the replies are delexicalised.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.llm.responder import MODEL_NAME
from services.llm.responder.corpus import INTENTS, Sample, corpus_hash, generate, make_drill
from services.llm.responder.delex import META_FLAG, PLACEHOLDER_RE, PLACEHOLDERS

SPECIAL = {"pad": "<|pad|>", "system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>", "eos": "<|end|>"}
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ '<|system|>\n' + m['content'] + '\n' }}"
    "{% elif m['role'] == 'user' %}{{ '<|user|>\n' + m['content'] + '\n' }}"
    "{% elif m['role'] == 'assistant' %}{{ '<|assistant|>\n' + m['content'] + '<|end|>\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
# CJK ideographs and full-width punctuation: one pre-token each.
_CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"


def render_prompt(messages: list[dict[str, str]]) -> str:
    """The exact text CHAT_TEMPLATE renders with add_generation_prompt=True (training uses this)."""
    out = []
    for m in messages:
        tag = {"system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>"}.get(m["role"])
        if tag is None:
            continue
        out.append(f"{tag}\n{m['content']}" + ("<|end|>\n" if m["role"] == "assistant" else "\n"))
    return "".join(out) + "<|assistant|>\n"


@dataclass
class TrainConfig:
    """Everything that decides the result (recorded in meta.json)."""

    seed: int = 0
    steps: int = 3000
    minutes: float = 8.0  # wall-clock budget for the optimisation loop; 0 = no budget
    batch_size: int = 8
    threads: int = 0  # 0 = pick from the load average
    lr: float = 4e-3
    min_lr_ratio: float = 0.1
    warmup: int = 30
    decay_fraction: float = 0.25  # the learning rate decays over the last quarter of the run
    weight_decay: float = 0.01
    max_len: int = 320
    vocab_size: int = 2048
    tokenizer_samples: int = 4000
    eval_samples: int = 0  # held-out eval at the end of training (evaluate.py does it separately)
    bias_update: float = 5e-3
    fact_weight: float = 3.0  # loss weight of reply tokens that copy (or name) a fact from the context
    drill_fraction: float = 0.0  # share of the run (from the start) that interleaves copy drills
    delexicalise: bool = True  # train on placeholder replies; serving relexicalises (delex.py)
    model: dict[str, Any] = field(
        default_factory=lambda: {
            "hidden_size": 192,
            "intermediate_size": 384,
            "moe_intermediate_size": 96,
            "num_hidden_layers": 3,
            "num_attention_heads": 4,
            "num_key_value_heads": 4,
            "q_lora_rank": 64,
            "kv_lora_rank": 48,
            "qk_rope_head_dim": 16,
            "qk_nope_head_dim": 32,
            "v_head_dim": 32,
            "head_dim": 16,
            "n_routed_experts": 16,
            "num_experts_per_tok": 2,
            "n_shared_experts": 1,
            "n_group": 1,
            "topk_group": 1,
            "first_k_dense_replace": 1,
            "routed_scaling_factor": 1.0,
            "norm_topk_prob": True,
            "max_position_embeddings": 1024,
            "tie_word_embeddings": False,
            "rope_theta": 10000.0,
        }
    )

    @classmethod
    def quick(cls, seed: int = 0) -> TrainConfig:
        """CI variant (≤ 90 s): same architecture family, smaller and shorter — real, but worse."""
        cfg = cls(
            seed=seed,
            steps=120,
            minutes=1.0,
            batch_size=8,
            lr=4e-3,
            warmup=10,
            max_len=288,
            vocab_size=1536,
            tokenizer_samples=800,
            eval_samples=0,
        )
        cfg.model.update(
            {
                "hidden_size": 128,
                "intermediate_size": 256,
                "moe_intermediate_size": 64,
                "num_hidden_layers": 2,
                "q_lora_rank": 48,
                "kv_lora_rank": 32,
            }
        )
        return cfg


REPLAN_AT = frozenset((10, 30, 60, *range(100, 100_000, 100)))  # only ever before the decay phase


def log(msg: str) -> None:
    print(f"[kefu llm train] {msg}", flush=True)


# ------------------------------------------------------------------ tokenizer


def train_tokenizer(texts: list[str], vocab_size: int, placeholders: tuple[str, ...] = ()) -> Any:
    """Byte-level BPE; digits one per token and CJK characters isolated (copy-friendly).

    `placeholders` become added tokens (one id each, never split, and — unlike special tokens —
    kept by `decode(skip_special_tokens=True)`, so the server sees them in the text it relexicalises).
    """
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_CJK), behavior="isolated"),
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    specials = [SPECIAL[k] for k in ("pad", "eos", "system", "user", "assistant")]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        min_frequency=2,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([PLACEHOLDER_RE.sub(" ", t) for t in texts], trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=SPECIAL["eos"],
        pad_token=SPECIAL["pad"],
        additional_special_tokens=[SPECIAL["system"], SPECIAL["user"], SPECIAL["assistant"]],
    )
    if placeholders:
        from tokenizers import AddedToken

        fast.add_tokens([AddedToken(p, special=False, normalized=False) for p in placeholders])
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = 1024
    return fast


def target(s: Sample, delex: bool = False) -> str:
    """The reply the model learns: delexicalised (placeholders) or verbatim."""
    return s.delex if delex and s.delex else s.reply


def sample_text(s: Sample, delex: bool = False) -> str:
    return render_prompt(s.messages) + target(s, delex) + SPECIAL["eos"]


def encode(tok: Any, s: Sample, delex: bool = False) -> tuple[list[int], int]:
    """(ids, prompt length): prompt and reply tokenized apart, exactly as inference sees them."""
    p = tok(render_prompt(s.messages), add_special_tokens=False)["input_ids"]
    r = tok(target(s, delex) + SPECIAL["eos"], add_special_tokens=False)["input_ids"]
    return p + r, len(p)


# ------------------------------------------------------------------ model


def fact_spans(reply: str, facts: list[str]) -> list[tuple[int, int]]:
    """Character spans of the facts a reply copies from its context (ids, prices, titles...)."""
    spans = []
    for f in facts:
        start = reply.find(f)
        while f and start >= 0:
            spans.append((start, start + len(f)))
            start = reply.find(f, start + 1)
    return spans


def encode_all(tok: Any, samples: list[Sample], delex: bool = False) -> list[tuple[list[int], int, list[bool]]]:
    """Batch form of `encode` (one Rust call: seconds, not minutes, for 30k samples), plus which
    reply tokens belong to a copied fact or a placeholder (the trainer weights those up)."""
    ps = tok([render_prompt(s.messages) for s in samples], add_special_tokens=False)["input_ids"]
    texts = [target(s, delex) for s in samples]
    rs = tok([t + SPECIAL["eos"] for t in texts], add_special_tokens=False, return_offsets_mapping=True)
    out = []
    for s, text, p, r, offs in zip(samples, texts, ps, rs["input_ids"], rs["offset_mapping"], strict=True):
        if delex and s.delex:
            spans = [(m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)]
            spans += fact_spans(text, [x for x in s.required if x in text])
        else:
            spans = fact_spans(s.reply, s.required)
        fact = [any(a < e and b > st for st, e in spans) for a, b in offs]
        out.append((p + r, len(p), fact))
    return out


def build_model(cfg: TrainConfig, tok: Any) -> Any:
    import torch
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM

    m = dict(cfg.model)
    rope_theta = m.pop("rope_theta", 10000.0)
    mc = DeepseekV3Config(
        vocab_size=len(tok),
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=None,
        rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
        num_mtp_layers=0,
        **m,
    )
    torch.manual_seed(cfg.seed)
    model = DeepseekV3ForCausalLM(mc)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.bos_token_id = None
    return model


class LoadBalancer:
    """DeepSeek-V3's aux-loss-free balancing: nudge each router's score bias towards idle experts."""

    def __init__(self, model: Any, rate: float) -> None:
        from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3TopkRouter

        self.rate = rate
        self.routers = [m for m in model.modules() if isinstance(m, DeepseekV3TopkRouter)]
        self.counts: list[Any] = [None] * len(self.routers)
        for i, r in enumerate(self.routers):
            r.register_forward_hook(self._hook(i))

    def _hook(self, i: int) -> Callable[..., None]:
        def hook(module: Any, _inp: Any, out: Any) -> None:
            import torch

            if module.training:
                c = torch.bincount(out[2].reshape(-1), minlength=module.num_experts).float()
                self.counts[i] = c if self.counts[i] is None else self.counts[i] + c

        return hook

    def step(self) -> float:
        """Apply the bias update; returns the worst max/mean expert load of the step."""
        import torch

        worst = 0.0
        with torch.no_grad():
            for r, c in zip(self.routers, self.counts, strict=True):
                if c is None or c.sum() == 0:
                    continue
                mean = c.mean()
                r.e_score_correction_bias += self.rate * torch.sign(mean - c)
                worst = max(worst, float(c.max() / mean))
        self.counts = [None] * len(self.routers)
        return worst


# ------------------------------------------------------------------ data


def make_batches(encoded: list[tuple[list[int], int]], batch_size: int, seed: int) -> list[list[int]]:
    """Length-bucketed batches (little padding) in a seeded shuffled order."""
    rng = random.Random(seed)
    idx = list(range(len(encoded)))
    rng.shuffle(idx)
    batches: list[list[int]] = []
    chunk = batch_size * 32
    for c in range(0, len(idx), chunk):
        part = sorted(idx[c : c + chunk], key=lambda i: len(encoded[i][0]))
        batches += [part[j : j + batch_size] for j in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(encoded: list[Any], batch: list[int], pad_id: int, fact_weight: float = 1.0) -> tuple[Any, Any, Any]:
    """(ids, labels, weights): labels -100 outside replies; weights `fact_weight` on copied facts."""
    import torch

    n = max(len(encoded[i][0]) for i in batch)
    ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), n), -100, dtype=torch.long)
    weights = torch.zeros((len(batch), n), dtype=torch.float32)
    for row, i in enumerate(batch):
        seq, plen = encoded[i][0], encoded[i][1]
        ids[row, : len(seq)] = torch.tensor(seq)
        labels[row, plen : len(seq)] = torch.tensor(seq[plen:])
        weights[row, plen : len(seq)] = 1.0
        if len(encoded[i]) > 2 and fact_weight != 1.0:
            fact = torch.tensor(encoded[i][2], dtype=torch.bool)
            weights[row, plen : len(seq)][fact] = fact_weight
    return ids, labels, weights


# ------------------------------------------------------------------ training


def reply_loss(model: Any, ids: Any, labels: Any, weights: Any = None) -> Any:
    """Cross-entropy on reply tokens only, computing the LM head only where a label exists.

    The prompt is ~80% of every sequence, so skipping its logits saves most of the vocabulary
    projection. No attention mask: padding is on the right and attention is causal, so pads never
    reach a real position (and SDPA takes its fast causal path).
    """
    import torch.nn.functional as F

    hidden = model.model(input_ids=ids).last_hidden_state[:, :-1]
    target = labels[:, 1:]
    sel = target != -100
    logits = model.lm_head(hidden[sel])
    if weights is None:
        return F.cross_entropy(logits.float(), target[sel])
    w = weights[:, 1:][sel]
    return (F.cross_entropy(logits.float(), target[sel], reduction="none") * w).sum() / w.sum()


def _fmt_s(sec: float) -> str:
    return f"{int(sec // 60)}m{int(sec % 60):02d}s"


def train(out: Path, cfg: TrainConfig, *, progress_every: int = 20) -> dict[str, Any]:
    """Train and save a Hugging Face folder at `out` (written to a temp dir, then renamed)."""
    import torch

    t_start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    threads = cfg.threads or _auto_threads()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)

    n_train = int(cfg.steps * cfg.batch_size * 1.05) + cfg.batch_size  # spare for dropped long samples
    log(f"corpus: generating {n_train} training samples (seed {cfg.seed})")
    samples = generate(n_train, seed=cfg.seed, split="train")
    chash = corpus_hash(samples)
    log(f"tokenizer: training byte-level BPE (vocab {cfg.vocab_size}) on {cfg.tokenizer_samples} samples")
    delex = cfg.delexicalise
    tok = train_tokenizer(
        [sample_text(s, delex) for s in samples[: cfg.tokenizer_samples]],
        cfg.vocab_size,
        PLACEHOLDERS if delex else (),
    )
    if delex:
        log(f"replies: delexicalised ({len(PLACEHOLDERS)} placeholder tokens, relexicalised at serving)")
    encoded = encode_all(tok, samples, delex)
    kept = [e for e in encoded if len(e[0]) <= cfg.max_len]
    dropped = len(encoded) - len(kept)
    lens = sorted(len(e[0]) for e in kept)
    log(
        f"data: {len(kept)} samples, {dropped} over {cfg.max_len} tokens dropped, "
        f"median {lens[len(lens) // 2]} / max {lens[-1]} tokens"
    )

    model = build_model(cfg, tok)
    n_params = sum(p.numel() for p in model.parameters())
    n_active = _active_params(model)
    log(
        f"model: DeepseekV3ForCausalLM {n_params / 1e6:.2f} M parameters ({n_active / 1e6:.2f} M active per token), "
        f"{model.config.n_routed_experts} routed experts top-{model.config.num_experts_per_tok}, "
        f"{model.config.n_shared_experts} shared"
    )
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.95),
    )
    balancer = LoadBalancer(model, cfg.bias_update)
    batches = make_batches(kept, cfg.batch_size, cfg.seed)
    total = min(cfg.steps, len(batches))
    drills: list[Any] = []
    drill_batches: list[list[int]] = []
    if cfg.drill_fraction > 0:
        n_drill = int(cfg.steps * cfg.drill_fraction / 2) * cfg.batch_size
        drills = [
            e for e in encode_all(tok, [make_drill(cfg.seed, i) for i in range(n_drill)]) if len(e[0]) <= cfg.max_len
        ]
        drill_batches = make_batches(drills, cfg.batch_size, cfg.seed + 1)
        log(f"drills: {len(drills)} copy drills for the first {cfg.drill_fraction:.0%} of steps (every other step)")
    used = {"real": 0, "drill": 0}
    budget = cfg.minutes * 60 if cfg.minutes and cfg.minutes > 0 else None

    def lr_at(step: int) -> float:
        """Warmup-stable-decay: the stable phase does not depend on `total`, so a budget run that
        re-plans its length before the decay starts equals a `--steps N` run step for step."""
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        decay_start = int(total * (1 - cfg.decay_fraction))
        if step < decay_start:
            return cfg.lr
        prog = min(1.0, (step - decay_start) / max(1, total - decay_start))
        return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * prog)))

    model.train()
    t0 = time.perf_counter()
    tokens = 0
    ema = None
    losses: list[float] = []
    plans: list[tuple[int, int]] = []
    t_first, tok_first = 0.0, 0
    step = 0
    imbalance = 0.0
    while step < total:
        if step < total * cfg.drill_fraction and step % 2 == 1 and used["drill"] < len(drill_batches):
            ids, labels, weights = collate(drills, drill_batches[used["drill"]], tok.pad_token_id)
            used["drill"] += 1
        else:
            ids, labels, weights = collate(kept, batches[used["real"]], tok.pad_token_id, cfg.fact_weight)
            used["real"] += 1
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss = reply_loss(model, ids, labels, weights)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        imbalance = balancer.step()
        step += 1
        tokens += int((ids != tok.pad_token_id).sum())
        lv = loss.item()
        losses.append(lv)
        ema = lv if ema is None else 0.95 * ema + 0.05 * lv
        elapsed = time.perf_counter() - t0
        if step == 1:
            t_first, tok_first = elapsed, tokens  # the first step pays one-off allocation costs
        if budget and step in REPLAN_AT and step < int(total * (1 - cfg.decay_fraction)):
            # Re-plan the length from tokens/s so far (tokens, not steps, cost time: drill batches
            # are about half as long as reply batches); only before the drills end and decay starts.
            rate = (tokens - tok_first) / max(1e-6, elapsed - t_first)
            real_tok = sum(len(kept[i][0]) for b in batches[:50] for i in b) / max(1, min(50, len(batches)))
            drill_tok = (
                sum(len(drills[i][0]) for b in drill_batches[:50] for i in b) / max(1, min(50, len(drill_batches)))
                if drill_batches
                else real_tok
            )
            per_step = (cfg.drill_fraction / 2) * drill_tok + (1 - cfg.drill_fraction / 2) * real_tok
            left = budget - elapsed
            fit = max(step + 1, min(cfg.steps, len(batches), step + int(0.85 * left * rate / per_step)))
            if fit != total and step < int(fit * (1 - cfg.decay_fraction)):
                log(f"budget: {cfg.minutes:g} min at {rate:.0f} tokens/s fits about {fit} steps; planning {fit}")
                plans.append((step, fit))
                total = fit
        if budget and elapsed > budget * 1.15 and step < total:
            log(f"budget: over {cfg.minutes:g} min by 15% (shared CPU?) — stopping at step {step}")
            total = step
        if step % progress_every == 0 or step == total or step == 1:
            eta = elapsed / step * (total - step)
            log(
                f"step {step}/{total} loss {lv:.3f} (ema {ema:.3f}) lr {lr_at(step - 1):.2e} "
                f"{tokens / elapsed:.0f} tok/s expert-load max/mean {imbalance:.2f} "
                f"elapsed {_fmt_s(elapsed)} eta {_fmt_s(eta)}"
            )
    train_s = time.perf_counter() - t0
    model.eval()

    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    _embed_chat_template(tmp)
    final = sum(losses[-20:]) / max(1, len(losses[-20:]))
    meta: dict[str, Any] = {
        "name": MODEL_NAME,
        META_FLAG: delex,
        "placeholders": list(PLACEHOLDERS) if delex else [],
        "seed": cfg.seed,
        "steps": step,
        "planned_steps": cfg.steps,
        "batch_size": cfg.batch_size,
        "drill_steps": used["drill"],
        "plans": plans,
        "corpus_hash": chash,
        "corpus_samples": len(kept),
        "intents": list(INTENTS),
        "langs": ["en", "zh"],
        "parameters": n_params,
        "active_parameters": n_active,
        "train_seconds": round(train_s, 1),
        "total_seconds": None,
        "tokens_per_s": round(tokens / train_s, 1),
        "final_loss": round(final, 4),
        "first_loss": round(losses[0], 4),
        "config": {k: v for k, v in cfg.__dict__.items()},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "metrics": {},
    }
    if cfg.eval_samples:
        from services.llm.responder.evaluate import evaluate_model

        log(f"eval: greedy decoding {cfg.eval_samples} held-out contexts")
        meta["metrics"] = evaluate_model(model, tok, n=cfg.eval_samples, seed=cfg.seed)
        log("eval: " + json.dumps({k: v for k, v in meta["metrics"].items() if not isinstance(v, dict)}))
    meta["total_seconds"] = round(time.perf_counter() - t_start, 1)
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    log(
        f"saved {out} ({n_params / 1e6:.2f} M params, {step} steps, final loss {final:.3f}, "
        f"{_fmt_s(meta['total_seconds'])} total)"
    )
    return meta


def _embed_chat_template(folder: Path) -> None:
    """transformers 5 writes the template to chat_template.jinja; older loaders and other engines
    read it from tokenizer_config.json, so it goes in both places (identical text)."""
    path = folder / "tokenizer_config.json"
    conf = json.loads(path.read_text(encoding="utf-8"))
    conf["chat_template"] = CHAT_TEMPLATE
    conf["tokenizer_class"] = "PreTrainedTokenizerFast"  # transformers 4.x (vLLM, SGLang) knows this name
    conf.setdefault("eos_token", SPECIAL["eos"])
    conf.setdefault("pad_token", SPECIAL["pad"])
    path.write_text(json.dumps(conf, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _auto_threads() -> int:
    """One thread when the CPU is oversubscribed: multi-threaded kernels stall on descheduled peers
    (measured here under load 9 on 2 cores: 1 thread 900-1300 tok/s, 2 threads 140-440 tok/s)."""
    ncpu = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return 1 if load > ncpu - 0.5 else max(1, min(4, ncpu))


def _active_params(model: Any) -> int:
    """Parameters one token touches: all but the routed experts it is not sent to."""
    cfg = model.config
    total = sum(p.numel() for p in model.parameters())
    routed = sum(p.numel() for n, p in model.named_parameters() if ".mlp.experts." in n)
    return int(total - routed + routed * cfg.num_experts_per_tok / cfg.n_routed_experts)


def default_dir(settings: Any) -> Path:
    return Path(settings.data_dir) / "models" / "llm" / MODEL_NAME


def is_complete(folder: Path) -> bool:
    return all((folder / f).exists() for f in ("config.json", "model.safetensors", "tokenizer.json", "meta.json"))


def ensure_default(settings: Any, quick: bool = False, force: bool = False) -> Path:
    """Train the default responder into the data dir unless a complete one is already there."""
    out = default_dir(settings)
    if is_complete(out) and not force:
        log(f"default responder present at {out}")
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    train(out, TrainConfig.quick() if quick else TrainConfig())
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="train the default responder")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--quick", action="store_true")
    a = p.parse_args(argv)
    cfg = TrainConfig.quick(a.seed) if a.quick else TrainConfig(seed=a.seed)
    if a.steps:
        cfg.steps = a.steps
    if a.minutes is not None:
        cfg.minutes = a.minutes
    train(a.out, cfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
