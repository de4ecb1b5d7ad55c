"""Train the default responder: a tiny DeepSeek-V3 MoE (transformers' native class) on the corpus.

Why these choices:
- transformers' `DeepseekV3ForCausalLM` so the saved folder is a genuine Hugging Face checkpoint
  that any loader (kefu's engine, vLLM, transformers) reads without conversion (`network.py`).
- A byte-level BPE tokenizer trained here on the corpus, with digits split one per token and
  CJK characters isolated (`tokenizer.py`): an id or a Chinese title then tokenizes identically in
  the FACTS and in the reply, which is what makes copying learnable by a model this small.
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
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.llm.responder import MODEL_NAME
from services.llm.responder.batches import Encoded, collate, encode_all, make_batches, mean_tokens, sample_text
from services.llm.responder.corpus import INTENTS, LANGS, corpus_hash, generate, make_drill
from services.llm.responder.delex import META_FLAG, PLACEHOLDERS
from services.llm.responder.evaluate import evaluate_model
from services.llm.responder.network import LoadBalancer, active_params, build_model, reply_loss
from services.llm.responder.threads import auto_threads
from services.llm.responder.tokenizer import embed_chat_template, train_tokenizer


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


def _fmt_s(sec: float) -> str:
    return f"{int(sec // 60)}m{int(sec % 60):02d}s"


# ------------------------------------------------------------------ data


@dataclass
class TrainData:
    """The tokenized corpus a run trains on: reply samples and (optionally) copy drills, batched."""

    tok: Any
    kept: list[Encoded]
    batches: list[list[int]]
    corpus_hash: str
    drills: list[Encoded] = field(default_factory=list)
    drill_batches: list[list[int]] = field(default_factory=list)


def prepare_data(cfg: TrainConfig) -> TrainData:
    """Generate the corpus, train the tokenizer on it, encode it and drop samples over max_len."""
    n_train = int(cfg.steps * cfg.batch_size * 1.05) + cfg.batch_size  # spare for dropped long samples
    log(f"corpus: generating {n_train} training samples (seed {cfg.seed})")
    samples = generate(n_train, seed=cfg.seed, split="train")
    log(f"tokenizer: training byte-level BPE (vocab {cfg.vocab_size}) on {cfg.tokenizer_samples} samples")
    delex = cfg.delexicalise
    tok = train_tokenizer([sample_text(s, delex) for s in samples[: cfg.tokenizer_samples]], cfg.vocab_size,
                          PLACEHOLDERS if delex else ())
    if delex:
        log(f"replies: delexicalised ({len(PLACEHOLDERS)} placeholder tokens, relexicalised at serving)")
    encoded = encode_all(tok, samples, delex)
    kept: list[Encoded] = [e for e in encoded if len(e[0]) <= cfg.max_len]
    lens = sorted(len(e[0]) for e in kept)
    log(f"data: {len(kept)} samples, {len(encoded) - len(kept)} over {cfg.max_len} tokens dropped, "
        f"median {lens[len(lens) // 2]} / max {lens[-1]} tokens")
    data = TrainData(tok, kept, make_batches(kept, cfg.batch_size, cfg.seed), corpus_hash(samples))
    if cfg.drill_fraction > 0:
        n_drill = int(cfg.steps * cfg.drill_fraction / 2) * cfg.batch_size
        drills = encode_all(tok, [make_drill(cfg.seed, i) for i in range(n_drill)])
        data.drills = [e for e in drills if len(e[0]) <= cfg.max_len]
        data.drill_batches = make_batches(data.drills, cfg.batch_size, cfg.seed + 1)
        log(f"drills: {len(data.drills)} copy drills for the first {cfg.drill_fraction:.0%} of steps "
            "(every other step)")
    return data


# ------------------------------------------------------------------ the loop


@dataclass
class Run:
    """The loop's state: how far it got, what it measured, how its length was (re-)planned."""

    total: int  # the planned number of steps
    step: int = 0
    tokens: int = 0
    losses: list[float] = field(default_factory=list)
    ema: float | None = None
    imbalance: float = 0.0  # the last step's worst max/mean expert load
    plans: list[tuple[int, int]] = field(default_factory=list)
    used: dict[str, int] = field(default_factory=lambda: {"real": 0, "drill": 0})
    t_first: float = 0.0  # the first step pays one-off allocation costs: rates leave it out
    tok_first: int = 0
    seconds: float = 0.0


def lr_at(cfg: TrainConfig, step: int, total: int) -> float:
    """Warmup-stable-decay: the stable phase does not depend on `total`, so a budget run that
    re-plans its length before the decay starts equals a `--steps N` run step for step."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    decay_start = int(total * (1 - cfg.decay_fraction))
    if step < decay_start:
        return cfg.lr
    prog = min(1.0, (step - decay_start) / max(1, total - decay_start))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * prog)))


def _optimizer(model: Any, cfg: TrainConfig) -> Any:
    """AdamW, without weight decay on embeddings, norms and biases."""
    import torch

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.95))


def _next_batch(cfg: TrainConfig, data: TrainData, run: Run) -> tuple[Any, Any, Any]:
    """A drill batch every other step while drills last, else the next reply batch."""
    pad = data.tok.pad_token_id
    if run.step < run.total * cfg.drill_fraction and run.step % 2 == 1 and run.used["drill"] < len(data.drill_batches):
        batch = collate(data.drills, data.drill_batches[run.used["drill"]], pad)
        run.used["drill"] += 1
        return batch
    batch = collate(data.kept, data.batches[run.used["real"]], pad, cfg.fact_weight)
    run.used["real"] += 1
    return batch


def _step(model: Any, opt: Any, balancer: LoadBalancer, cfg: TrainConfig, data: TrainData, run: Run) -> float:
    """One optimiser step and the expert-bias update after it; returns the step's loss."""
    import torch

    ids, labels, weights = _next_batch(cfg, data, run)
    for g in opt.param_groups:
        g["lr"] = lr_at(cfg, run.step, run.total)
    loss = reply_loss(model, ids, labels, weights)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    opt.zero_grad(set_to_none=True)
    run.imbalance = balancer.step()
    run.step += 1
    run.tokens += int((ids != data.tok.pad_token_id).sum())
    lv = loss.item()
    run.losses.append(lv)
    run.ema = lv if run.ema is None else 0.95 * run.ema + 0.05 * lv
    return lv


def _replan(cfg: TrainConfig, data: TrainData, run: Run, budget: float, elapsed: float) -> None:
    """Fit the length to the budget from tokens/s so far (tokens, not steps, cost time: drill
    batches are about half as long as reply batches); only before the drills end and decay starts."""
    rate = (run.tokens - run.tok_first) / max(1e-6, elapsed - run.t_first)
    real_tok = mean_tokens(data.kept, data.batches)
    drill_tok = mean_tokens(data.drills, data.drill_batches) if data.drill_batches else real_tok
    per_step = (cfg.drill_fraction / 2) * drill_tok + (1 - cfg.drill_fraction / 2) * real_tok
    left = budget - elapsed
    fit = max(run.step + 1, min(cfg.steps, len(data.batches), run.step + int(0.85 * left * rate / per_step)))
    if fit != run.total and run.step < int(fit * (1 - cfg.decay_fraction)):
        log(f"budget: {cfg.minutes:g} min at {rate:.0f} tokens/s fits about {fit} steps; planning {fit}")
        run.plans.append((run.step, fit))
        run.total = fit


def _keep_to_budget(cfg: TrainConfig, data: TrainData, run: Run, budget: float, elapsed: float) -> None:
    if run.step in REPLAN_AT and run.step < int(run.total * (1 - cfg.decay_fraction)):
        _replan(cfg, data, run, budget, elapsed)
    if elapsed > budget * 1.15 and run.step < run.total:
        log(f"budget: over {cfg.minutes:g} min by 15% (shared CPU?) — stopping at step {run.step}")
        run.total = run.step


def _log_progress(cfg: TrainConfig, run: Run, loss: float, elapsed: float) -> None:
    eta = elapsed / run.step * (run.total - run.step)
    log(f"step {run.step}/{run.total} loss {loss:.3f} (ema {run.ema:.3f}) lr {lr_at(cfg, run.step - 1, run.total):.2e} "
        f"{run.tokens / elapsed:.0f} tok/s expert-load max/mean {run.imbalance:.2f} "
        f"elapsed {_fmt_s(elapsed)} eta {_fmt_s(eta)}")


def run_loop(model: Any, cfg: TrainConfig, data: TrainData, progress_every: int = 20) -> Run:
    """Optimise until the planned (or budget-cut) number of steps, logging progress."""
    opt = _optimizer(model, cfg)
    balancer = LoadBalancer(model, cfg.bias_update)
    budget = cfg.minutes * 60 if cfg.minutes and cfg.minutes > 0 else None
    run = Run(total=min(cfg.steps, len(data.batches)))
    model.train()
    t0 = time.perf_counter()
    while run.step < run.total:
        loss = _step(model, opt, balancer, cfg, data, run)
        elapsed = time.perf_counter() - t0
        if run.step == 1:
            run.t_first, run.tok_first = elapsed, run.tokens
        if budget:
            _keep_to_budget(cfg, data, run, budget, elapsed)
        if run.step % progress_every == 0 or run.step == run.total or run.step == 1:
            _log_progress(cfg, run, loss, elapsed)
    run.seconds = time.perf_counter() - t0
    model.eval()
    return run


# ------------------------------------------------------------------ the saved folder


def _meta(cfg: TrainConfig, data: TrainData, run: Run, model: Any) -> dict[str, Any]:
    """meta.json: everything that decided the result, and what the run measured."""
    import torch

    final = sum(run.losses[-20:]) / max(1, len(run.losses[-20:]))
    return {
        "name": MODEL_NAME,
        META_FLAG: cfg.delexicalise,
        "placeholders": list(PLACEHOLDERS) if cfg.delexicalise else [],
        "seed": cfg.seed,
        "steps": run.step,
        "planned_steps": cfg.steps,
        "batch_size": cfg.batch_size,
        "drill_steps": run.used["drill"],
        "plans": run.plans,
        "corpus_hash": data.corpus_hash,
        "corpus_samples": len(data.kept),
        "intents": list(INTENTS),
        "langs": list(LANGS),
        "parameters": sum(p.numel() for p in model.parameters()),
        "active_parameters": active_params(model),
        "train_seconds": round(run.seconds, 1),
        "total_seconds": None,
        "tokens_per_s": round(run.tokens / run.seconds, 1),
        "final_loss": round(final, 4),
        "first_loss": round(run.losses[0], 4),
        "config": {k: v for k, v in cfg.__dict__.items()},
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "metrics": {},
    }


def _write_checkpoint(out: Path, model: Any, tok: Any) -> Path:
    """Weights, tokenizer and chat template into `out`.tmp (published by `_publish`)."""
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save_pretrained(tmp)
    embed_chat_template(tmp)
    return tmp


def _publish(tmp: Path, out: Path, meta: dict[str, Any]) -> None:
    """meta.json last, then the folder replaces `out` in one rename (a half-written one never shows)."""
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)


def train(out: Path, cfg: TrainConfig, *, progress_every: int = 20) -> dict[str, Any]:
    """Train and save a Hugging Face folder at `out` (written to a temp dir, then renamed)."""
    import torch

    t_start = time.perf_counter()
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads or auto_threads())
    torch.use_deterministic_algorithms(True, warn_only=True)
    data = prepare_data(cfg)
    model = build_model(cfg.model, data.tok, cfg.seed)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"model: DeepseekV3ForCausalLM {n_params / 1e6:.2f} M parameters "
        f"({active_params(model) / 1e6:.2f} M active per token), {model.config.n_routed_experts} routed experts "
        f"top-{model.config.num_experts_per_tok}, {model.config.n_shared_experts} shared")
    run = run_loop(model, cfg, data, progress_every)
    tmp = _write_checkpoint(out, model, data.tok)
    meta = _meta(cfg, data, run, model)
    if cfg.eval_samples:
        log(f"eval: greedy decoding {cfg.eval_samples} held-out contexts")
        meta["metrics"] = evaluate_model(model, data.tok, n=cfg.eval_samples, seed=cfg.seed)
        log("eval: " + json.dumps({k: v for k, v in meta["metrics"].items() if not isinstance(v, dict)}))
    meta["total_seconds"] = round(time.perf_counter() - t_start, 1)
    _publish(tmp, out, meta)
    log(f"saved {out} ({n_params / 1e6:.2f} M params, {run.step} steps, final loss {meta['final_loss']:.3f}, "
        f"{_fmt_s(meta['total_seconds'])} total)")
    return meta


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
