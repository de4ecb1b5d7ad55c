"""Weight-only INT8 (`services.llm.model.quant.quantize_int8`, what `--int8` serves) vs float32 on the
same checkpoint: weight bytes and perplexity on held-out text this project writes (the responder
corpus's held-out split — unseen ids, brands and titles — rendered through the model's own chat
template; perplexity over the reply tokens). Prints one JSON object.

    .venv/bin/python bench/llm/bench_int8.py --model .kefu/models/llm/kefu-responder --n 200
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import time
from pathlib import Path

import torch


def perplexity(model: torch.nn.Module, batches: list[tuple[torch.Tensor, int]]) -> float:
    """Over the reply tokens only: the responder is trained on replies, never on its prompts."""
    nll, count = 0.0, 0
    with torch.inference_mode():
        for ids, start in batches:
            logits = model(input_ids=ids).logits[0, start - 1:-1].float()
            target = ids[0, start:]
            nll += float(torch.nn.functional.cross_entropy(logits, target, reduction="sum"))
            count += target.numel()
    return math.exp(nll / count)


def main() -> None:
    ap = argparse.ArgumentParser()
    data_dir = Path(os.environ.get("KEFU_DATA_DIR", ".kefu"))
    ap.add_argument("--model", default=str(data_dir / "models/llm/kefu-responder"))
    ap.add_argument("--n", type=int, default=200, help="held-out samples")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from services.llm.model.quant import quantize_int8, weight_bytes
    from services.llm.responder.corpus import generate
    from services.llm.responder.evaluate import is_delex_tokenizer

    tok = AutoTokenizer.from_pretrained(args.model)
    fp32 = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32).eval()
    delex = is_delex_tokenizer(tok)  # a delexicalised responder is scored on what it emits
    batches = []
    for s in generate(args.n, seed=args.seed, split="heldout", uniform=True):
        prompt = tok.apply_chat_template(s.messages, tokenize=False, add_generation_prompt=True)
        p_ids = tok.encode(prompt, add_special_tokens=False)
        r_ids = tok.encode(((s.delex or s.reply) if delex else s.reply) + (tok.eos_token or ""),
                           add_special_tokens=False)
        batches.append((torch.tensor([p_ids + r_ids]), len(p_ids)))

    t0 = time.perf_counter()
    ppl_fp32 = perplexity(fp32, batches)
    t_fp32 = time.perf_counter() - t0
    int8 = copy.deepcopy(fp32)
    n_layers = quantize_int8(int8)
    t0 = time.perf_counter()
    ppl_int8 = perplexity(int8, batches)
    t_int8 = time.perf_counter() - t0
    out = {
        "model": args.model, "held_out_texts": len(batches), "reply_tokens": sum(b.numel() - st for b, st in batches),
        "int8_linear_layers": n_layers,
        "weight_bytes_fp32": weight_bytes(fp32), "weight_bytes_int8": weight_bytes(int8),
        "size_ratio": round(weight_bytes(int8) / weight_bytes(fp32), 4),
        "ppl_fp32": round(ppl_fp32, 4), "ppl_int8": round(ppl_int8, 4),
        "ppl_delta_pct": round(100 * (ppl_int8 / ppl_fp32 - 1), 3),
        "eval_s_fp32": round(t_fp32, 2), "eval_s_int8": round(t_int8, 2),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
