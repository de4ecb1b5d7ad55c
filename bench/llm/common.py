"""Shared helpers for the llm benchmarks: a synthetic DeepSeek-V3 checkpoint (no downloads)."""

from __future__ import annotations

import os
import resource
import tempfile
from pathlib import Path

import torch

RESPONDER_LIKE = dict(  # a few-million-parameter MoE like kefu's default responder
    vocab_size=4000, hidden_size=256, intermediate_size=512, moe_intermediate_size=128,
    num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=4, n_shared_experts=1,
    n_routed_experts=16, num_experts_per_tok=2, n_group=4, topk_group=2, first_k_dense_replace=1,
    q_lora_rank=64, kv_lora_rank=64, qk_rope_head_dim=32, qk_nope_head_dim=32, v_head_dim=64,
    max_position_embeddings=1024, bos_token_id=0, eos_token_id=1, pad_token_id=2,
)

TEXT = (
    "Your order KF100231 has shipped with DHL and should arrive on Friday. We accept returns within "
    "30 days of delivery. Refunds go back to the original payment method within five business days. "
    "The trail running shoes cost 89.99 USD and twelve pairs are in stock in sizes 38 to 45. "
    "您的订单已发货，预计周五送达。我们支持三十天内无理由退货，退款将原路返回。"
)


def synthetic_deepseek(folder: Path | None = None, seed: int = 0) -> Path:
    """Save a random DeepseekV3ForCausalLM + a BPE tokenizer trained on TEXT; returns the folder."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM, PreTrainedTokenizerFast

    folder = folder or Path(tempfile.mkdtemp(prefix="kefu-bench-ds-"))
    torch.manual_seed(seed)
    DeepseekV3ForCausalLM(DeepseekV3Config(**RESPONDER_LIKE)).save_pretrained(str(folder))
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([TEXT] * 50, trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<s>", "</s>", "<pad>"], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                            pad_token="<pad>").save_pretrained(str(folder))
    return folder


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict:
    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "load_avg_1m": round(os.getloadavg()[0], 2)}
