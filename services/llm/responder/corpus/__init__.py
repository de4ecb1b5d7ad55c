"""The reply corpus kefu writes for its default responder: grounded context -> reply.

Every sample is a `ReplyContext` rendered by `kefu.prompting.build_messages` (the exact prompt the
gateway sends) plus the reply a careful agent would write from those facts only. Facts are drawn
fresh for every sample (random order ids, prices, dates, tracking numbers, product titles, and
policy sentences with random numbers), so the only way to get a reply right is to COPY the facts
from the context — memorising them is useless. The held-out split uses id ranges and brand names
that never occur in training, so evaluation measures copying of unseen strings.

Deterministic: sample i of (seed, split) depends only on those three values.

- `world`: the fake shop (products, orders, policies) the samples draw from;
- `phrasings`: what shoppers ask and how the agent words each reply, per intent and language;
- `replies`: one builder per intent (draws the scene, writes the reply and the facts it must state);
- `samples`: a builder's scene rendered as a prompt, the schedule over intents, copy drills.
"""

from services.llm.responder.corpus.samples import (
    FACT_FREE,
    INTENTS,
    Sample,
    corpus_hash,
    generate,
    iter_samples,
    make_drill,
    make_sample,
)
from services.llm.responder.corpus.world import (
    BRANDS_HELDOUT,
    BRANDS_TRAIN,
    LANGS,
    ORDER_IDS,
    real_brands,
    real_catalog,
)

__all__ = [
    "BRANDS_HELDOUT", "BRANDS_TRAIN", "FACT_FREE", "INTENTS", "LANGS", "ORDER_IDS", "Sample", "corpus_hash", "generate",
    "iter_samples", "make_drill", "make_sample", "real_brands", "real_catalog",
]
