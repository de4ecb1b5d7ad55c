"""The responder's tokenizer and chat format: byte-level BPE trained on the corpus, copy-friendly.

Digits are split one per token and Han characters and CJK punctuation isolated, so an id or a
Chinese title tokenizes identically in the FACTS and in the reply, which is what makes copying
learnable by a model this small. The chat template is saved with the model (in both places
loaders look for it), and `render_prompt` is its exact text, which training uses.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kefu.vocab import HAN_CLASS
from services.llm.responder.delex import PLACEHOLDER_RE

SPECIAL = {"pad": "<|pad|>", "system": "<|system|>", "user": "<|user|>", "assistant": "<|assistant|>", "eos": "<|end|>"}
CHAT_TEMPLATE = (
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ '<|system|>\n' + m['content'] + '\n' }}"
    "{% elif m['role'] == 'user' %}{{ '<|user|>\n' + m['content'] + '\n' }}"
    "{% elif m['role'] == 'assistant' %}{{ '<|assistant|>\n' + m['content'] + '<|end|>\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
)
# Han characters (kefu.vocab's class) and CJK / full-width punctuation: one pre-token each.
_ISOLATED = f"[\u3000-\u303f{HAN_CLASS}\uff00-\uffef]"
_ROLE_TAG = {"system": SPECIAL["system"], "user": SPECIAL["user"], "assistant": SPECIAL["assistant"]}


def render_prompt(messages: list[dict[str, str]]) -> str:
    """The exact text CHAT_TEMPLATE renders with add_generation_prompt=True (training uses this)."""
    out = []
    for m in messages:
        tag = _ROLE_TAG.get(m["role"])
        if tag is None:
            continue
        out.append(f"{tag}\n{m['content']}" + ("<|end|>\n" if m["role"] == "assistant" else "\n"))
    return "".join(out) + "<|assistant|>\n"


def train_tokenizer(texts: list[str], vocab_size: int, placeholders: tuple[str, ...] = ()) -> Any:
    """Byte-level BPE; digits one per token and CJK characters isolated (copy-friendly).

    `placeholders` become added tokens (one id each, never split, and — unlike special tokens —
    kept by `decode(skip_special_tokens=True)`, so the server sees them in the text it relexicalises).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(_ISOLATED), behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    specials = [SPECIAL[k] for k in ("pad", "eos", "system", "user", "assistant")]
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, min_frequency=2,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([PLACEHOLDER_RE.sub(" ", t) for t in texts], trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=SPECIAL["eos"], pad_token=SPECIAL["pad"],
        additional_special_tokens=[SPECIAL["system"], SPECIAL["user"], SPECIAL["assistant"]],
    )
    if placeholders:
        fast.add_tokens([AddedToken(p, special=False, normalized=False) for p in placeholders])
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = 1024
    return fast


def embed_chat_template(folder: Path) -> None:
    """transformers 5 writes the template to chat_template.jinja; older loaders and other engines
    read it from tokenizer_config.json, so it goes in both places (identical text)."""
    path = folder / "tokenizer_config.json"
    conf = json.loads(path.read_text(encoding="utf-8"))
    conf["chat_template"] = CHAT_TEMPLATE
    conf["tokenizer_class"] = "PreTrainedTokenizerFast"  # transformers 4.x (vLLM, SGLang) knows this name
    conf.setdefault("eos_token", SPECIAL["eos"])
    conf.setdefault("pad_token", SPECIAL["pad"])
    path.write_text(json.dumps(conf, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
