"""Tiny random checkpoints built with transformers' own classes, saved as real HF folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

CORPUS = (
    "Your order KF100231 has shipped with DHL and should arrive on Friday. "
    "We accept returns within 30 days of delivery. Refunds go back to the original payment method. "
    "The running shoes cost 89.99 USD and 12 pairs are in stock. Hello! How can I help you today? "
    "您的订单已发货，预计周五送达。我们支持三十天内退货。退款将原路返回。"
)


def build_tokenizer(folder: Path, vocab_size: int = 300) -> None:
    """A byte-level BPE trained offline on a few sentences, saved as a transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<s>", "</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([CORPUS] * 20, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.save_pretrained(str(folder))


def tiny_deepseek_config(**over):
    from transformers import DeepseekV3Config

    kw = dict(
        vocab_size=300, hidden_size=128, intermediate_size=256, moe_intermediate_size=64,
        num_hidden_layers=3, num_attention_heads=4, num_key_value_heads=4, n_shared_experts=1,
        n_routed_experts=16, num_experts_per_tok=2, n_group=4, topk_group=2, first_k_dense_replace=1,
        q_lora_rank=32, kv_lora_rank=32, qk_rope_head_dim=16, qk_nope_head_dim=16, v_head_dim=32,
        max_position_embeddings=256, bos_token_id=0, eos_token_id=1, pad_token_id=2,
    )
    kw.update(over)
    return DeepseekV3Config(**kw)


def _randomize_router(model) -> None:
    """transformers initialises the correction bias to zero; give it values so the test sees it."""
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("e_score_correction_bias"):
                buf.copy_(torch.randn_like(buf) * 0.05)


def _save_tiny_deepseek(folder: Path, seed: int, cfg) -> Path:  # a DeepseekV3Config
    """A random DeepseekV3ForCausalLM (routers randomised) saved with the test tokenizer."""
    from transformers import DeepseekV3ForCausalLM

    torch.manual_seed(seed)
    model = DeepseekV3ForCausalLM(cfg)
    _randomize_router(model)
    model.save_pretrained(str(folder))
    build_tokenizer(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_deepseek_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny_deepseek(tmp_path_factory.mktemp("tiny-deepseek"), 0, tiny_deepseek_config(rope_parameters={
        "rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 64,
        "mscale": 1.0, "mscale_all_dim": 1.0, "beta_fast": 32, "beta_slow": 1,
    }))


@pytest.fixture(scope="session")
def tiny_deepseek_plain_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """No q-LoRA, default RoPE, one group: the other branches of MLA and the router."""
    return _save_tiny_deepseek(tmp_path_factory.mktemp("tiny-deepseek-plain"), 1, tiny_deepseek_config(
        q_lora_rank=None, n_group=1, topk_group=1, num_hidden_layers=2, routed_scaling_factor=1.0))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(2)
    folder = tmp_path_factory.mktemp("tiny-llama")
    cfg = LlamaConfig(
        vocab_size=300, hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=8,
        num_key_value_heads=2, max_position_embeddings=256, bos_token_id=0, eos_token_id=1, pad_token_id=2,
        rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                         "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(cfg).save_pretrained(str(folder))
    build_tokenizer(folder)
    (folder / "chat_template.jinja").write_text(
        "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    return folder


def tiny_config(seed: int = 0):  # a responder TrainConfig
    """A responder small enough to train in seconds: 6 steps of a 64-wide DeepSeek-V3."""
    from services.llm.responder import train as T

    cfg = T.TrainConfig.quick(seed)
    cfg.steps, cfg.minutes, cfg.batch_size, cfg.warmup = 6, 0, 4, 2
    cfg.vocab_size, cfg.tokenizer_samples, cfg.threads = 700, 200, 1
    cfg.model.update({"hidden_size": 64, "intermediate_size": 128, "moe_intermediate_size": 32,
                      "q_lora_rank": 32, "kv_lora_rank": 16})
    return cfg


@pytest.fixture(scope="session")
def tiny_responder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny trained kefu-responder (delexicalised) shared by the responder tests."""
    from services.llm.responder import train as T

    out = tmp_path_factory.mktemp("responder") / "kefu-responder"
    T.train(out, tiny_config())
    return out
