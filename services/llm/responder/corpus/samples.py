"""Samples: one reply builder's scene rendered as the exact prompt the gateway sends, plus copy drills."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kefu.contracts import ReplyContext, Turn
from kefu.prompting import build_messages, render_order, render_product
from kefu.vocab import SOCIAL_INTENTS, Intent
from services.llm.responder.corpus.phrasings import DRILL_ASK, SMALLTALK, user_text
from services.llm.responder.corpus.replies import BUILDERS, Scene
from services.llm.responder.corpus.world import LANGS, World
from services.llm.responder.delex import delexicalise, parse_facts

_I = Intent
# The corpus's intents in the order its schedule cycles through them: the 21 flows of the taxonomy
# (a finer v2 label is replied to by the flow serving it, kefu.vocab.SERVES).
INTENTS: tuple[str, ...] = tuple(i.value for i in (
    _I.GREETING, _I.GOODBYE, _I.THANKS, _I.ORDER_STATUS, _I.CANCEL_ORDER, _I.CHANGE_ORDER, _I.RETURN_REQUEST,
    _I.REFUND_STATUS, _I.SHIPPING_INFO, _I.CHANGE_ADDRESS, _I.PAYMENT_ISSUE, _I.PRODUCT_SEARCH,
    _I.PRODUCT_QUESTION, _I.RECOMMENDATION, _I.PRICE_QUESTION, _I.STOCK_AVAILABILITY, _I.COUPON, _I.COMPLAINT,
    _I.HUMAN_AGENT, _I.ACCOUNT_HELP, _I.OUT_OF_SCOPE,
))
assert set(INTENTS) == set(BUILDERS) and set(INTENTS) <= set(Intent)
# Replies that state no fact from the context (a marker phrase answers them).
FACT_FREE: frozenset[str] = SOCIAL_INTENTS | {_I.HUMAN_AGENT, _I.OUT_OF_SCOPE}
# Training weights intents that copy facts twice as often as fact-free ones (greetings are learnt
# in a few steps; copying ids and titles is what needs the updates).
SCHEDULE = tuple(i for i in INTENTS for _ in range(1 if i in FACT_FREE else 2))


@dataclass
class Sample:
    """One training or evaluation example."""

    intent: str
    lang: str
    ctx: ReplyContext
    messages: list[dict[str, str]]
    reply: str
    required: list[str] = field(default_factory=list)  # facts the reply must contain
    markers: list[str] = field(default_factory=list)  # any one must appear (fact-free intents)
    delex: str = ""  # the reply with each copied fact replaced by its placeholder (see delex.py)


def _localise(products: list[dict[str, Any]], lang: str) -> None:
    """Products as the catalog serves them in `lang`: one description, no Chinese-only fields."""
    for p in products:
        desc_zh = p.pop("description_zh", "")
        p.pop("category_zh", None)
        if lang == "zh":
            p["description"] = desc_zh


def _context(r: random.Random, intent: str, lang: str, sc: Scene) -> ReplyContext:
    """The turn's context: the scene, maybe an earlier small-talk exchange, the shopper's message."""
    _localise(sc.products, lang)
    history: list[Turn] = []
    if r.random() < 0.3:
        u, b = r.choice(SMALLTALK[lang])
        history.append(Turn(user=u, bot=b))
    user = user_text(r, intent, lang, sc.user_oid, sc.products[0] if sc.products else None)
    return ReplyContext(lang=lang, intent=intent, user_text=user, slots=sc.slots, order=sc.order,
                        products=sc.products, policy=sc.policy, history=history, note=sc.note)


def make_sample(seed: int, split: str, index: int, intent: str | None = None, lang: str | None = None) -> Sample:
    """Sample `index` of (seed, split): intents and languages cycle so every batch mixes them."""
    r = random.Random(f"kefu-responder:{seed}:{split}:{index}")
    intent = intent or SCHEDULE[(index // 2) % len(SCHEDULE)]
    lang = lang or LANGS[index % 2]
    sc = Scene()
    reply = BUILDERS[intent](r, World(r, heldout=(split != "train")), lang, sc)
    ctx = _context(r, intent, lang, sc)
    messages = build_messages(ctx)
    return Sample(intent=intent, lang=lang, ctx=ctx, messages=messages, reply=reply.text, required=reply.required,
                  markers=reply.markers, delex=delexicalise(reply.text, parse_facts(messages[0]["content"])))


def generate(n: int, seed: int = 0, split: str = "train", uniform: bool = False) -> list[Sample]:
    """n samples; `uniform` gives every (intent, language) the same share (for evaluation)."""
    if uniform:
        k = len(INTENTS)
        return [make_sample(seed, split, i, INTENTS[i % k], LANGS[(i // k) % 2]) for i in range(n)]
    return [make_sample(seed, split, i) for i in range(n)]


def iter_samples(seed: int = 0, split: str = "train", start: int = 0) -> Iterator[Sample]:
    i = start
    while True:
        yield make_sample(seed, split, i)
        i += 1


def corpus_hash(samples: list[Sample]) -> str:
    h = hashlib.sha256()
    for s in samples:
        h.update(json.dumps([s.messages, s.reply], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


def make_drill(seed: int, index: int) -> Sample:
    """A copy drill: the reply repeats one FACTS line verbatim (intent `repeat`).

    Copying a contiguous span is the purest form of the skill every grounded reply needs (ids,
    prices, titles); early in training these drills form the attention circuit that finds "the
    same place in the context" far faster than the sparse copies inside ordinary replies.
    """
    r = random.Random(f"kefu-responder-drill:{seed}:{index}")
    lang = LANGS[index % 2]
    w = World(r, heldout=False)
    order = w.order() if r.random() < 0.6 else None
    products = [w.product() for _ in range(r.choice((0, 1, 2, 3) if order else (1, 2, 3)))]
    _localise(products, lang)
    options: list[tuple[str, str]] = []
    if order:
        options.append(("订单" if lang == "zh" else "order", render_order(order, lang)))
    for i, p in enumerate(products, 1):
        options.append((f"商品{i}" if lang == "zh" else f"product {i}", render_product(p, lang)))
    what, line = r.choice(options)
    ask = r.choice(DRILL_ASK[lang]).format(what=what)
    ctx = ReplyContext(lang=lang, intent="repeat", user_text=ask, order=order, products=products)
    return Sample(intent="repeat", lang=lang, ctx=ctx, messages=build_messages(ctx), reply=line, required=[line])
