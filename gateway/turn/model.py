"""The values that flow between the turn's steps. Plain dataclasses: no I/O, easy to build in tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from kefu.contracts import DialogState, Turn

Emit = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass
class IntentGuess:
    """What the intent service (or the keyword fallback) made of the text."""

    name: str
    confidence: float = 0.0
    stage: str = "fasttext"  # fasttext | rerank | oos | fallback
    candidates: list[dict[str, Any]] = field(default_factory=list)
    rule: str | None = None  # why understanding overrode the model's label (understand.goals)
    model_intent: str | None = None  # the model's label before that override
    label: str = ""  # the taxonomy label (`name` is the flow that serves it: kefu.vocab.serves)
    also: list[str] = field(default_factory=list)  # a second need (the LLM's structured reading)
    goal: str | None = None  # the LLM's goal update: new | continue | switch | drop | none

    def __post_init__(self) -> None:
        self.label = self.label or self.name

    def public(self) -> dict[str, Any]:
        """The label the shopper's words got, and the flow that served it when they differ."""
        out: dict[str, Any] = {"name": self.label, "confidence": self.confidence, "stage": self.stage}
        return out | ({"serves": self.name} if self.label != self.name else {}) | (
            {"also": self.also} if self.also else {})

    def evidence(self) -> dict[str, Any]:
        extra = {"rule": self.rule, "model_intent": self.model_intent} if self.rule else {}
        return {**self.public(), "candidates": self.candidates, **extra}


@dataclass
class Resolved:
    """Dialog's reading of the message against the window (or the bare text without dialog)."""

    standalone: str
    slots: dict[str, Any] = field(default_factory=dict)
    referenced: list[str] = field(default_factory=list)
    state: DialogState | None = None

    @classmethod
    def of(cls, r: Any, text: str) -> Resolved:
        """From dialog's ResolveResponse."""
        return cls(r.standalone or text, dict(r.slots), list(r.referenced_products), r.state)


@dataclass
class Understanding:
    """Everything the turn knows about the shopper's message before it decides."""

    text: str  # the shopper's own words
    standalone: str  # made self-contained by dialog ("how much is it?" → "how much is <title>?")
    lang: str
    intent: IntentGuess
    slots: dict[str, Any] = field(default_factory=dict)
    referenced: list[str] = field(default_factory=list)  # product ids the message points at
    order_id: str | None = None
    angry: bool = False  # frustrated (understand.sentiment)
    urgent: bool = False
    praise: bool = False
    drop_goal: bool = False  # "never mind" / "算了": the pending goal is dropped
    history: list[Turn] = field(default_factory=list)  # the dialog window, oldest first
    degraded: list[str] = field(default_factory=list)
    factors: dict[str, str] = field(default_factory=dict)  # verification factors stated (email, phone…)
    answer: str | None = None  # "yes" / "no" when the message answers a question
    address: str | None = None  # a new shipping address stated
    reason: str = "other"  # why an item goes back: faulty | damaged | wrong_item | other
    shop: Any = None  # understand.shopping.ShopTurn: a search, refinement, product question or comparison
    vague: bool = False  # names a topic as a problem and nothing more ("payment issue"): ask which


class Move(StrEnum):
    ANSWER = "answer"  # state the facts the tools found
    ASK = "ask"  # ask for what is missing (an order id, a new address)
    VERIFY = "verify"  # the order exists: ask for the factor that proves it is the shopper's
    ACT = "act"  # change something in the shop's systems (after an explicit yes), then report it
    CONFIRM = "confirm"  # state what an action would do and ask for an explicit yes
    HANDOFF = "handoff"  # hand the conversation to a person


@dataclass
class ActionPlan:
    """An order action: proposed (needs a yes) or, once confirmed, to run with its key."""

    kind: str  # cancel | address | return | exchange
    order_id: str
    params: dict[str, Any] = field(default_factory=dict)
    key: str = ""  # idempotency key: the message id of the turn that asked for the yes

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "order_id": self.order_id, "params": self.params, "key": self.key}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ActionPlan:
        return cls(str(d["kind"]), str(d["order_id"]), dict(d.get("params") or {}), str(d.get("key") or ""))


@dataclass
class Goal:
    """What the shopper is trying to get done across turns, kept in the dialog state until done
    or dropped: the intent, its order, and the step the bot waits on."""

    intent: str
    step: str  # order_id | verify | address | confirm
    order_id: str | None = None
    action: ActionPlan | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "step": self.step, "order_id": self.order_id,
                "action": self.action.to_dict() if self.action else None, "params": self.params}

    @classmethod
    def from_dict(cls, d: Any) -> Goal | None:
        if not isinstance(d, dict) or not d.get("intent") or not d.get("step"):
            return None
        action = ActionPlan.from_dict(d["action"]) if isinstance(d.get("action"), dict) else None
        return cls(str(d["intent"]), str(d["step"]), d.get("order_id"), action, dict(d.get("params") or {}))


@dataclass
class Decision:
    """What the turn will do; the tools to run are named here and nowhere else."""

    move: Move
    intent: str
    handoff_reason: str | None = None
    search: str | None = None  # catalog query to run
    product_ids: list[str] = field(default_factory=list)  # products to read by id (references)
    prefer_ids: list[str] = field(default_factory=list)  # referenced products first among hits
    order_id: str | None = None  # order to look up
    use_order: bool = False  # the reply may state the order's facts
    policy: str | None = None  # look the question up in the knowledge base, with this intent as a hint
    shipping_quote: bool = False  # a product question that asks about shipping: price + the shop's rules
    propose: ActionPlan | None = None  # an action to offer (checked against the order and the rules)
    action: ActionPlan | None = None  # a confirmed action to run now
    list_orders: bool = False  # a signed-in shopper asked about "my order": list theirs
    goal: Goal | None = None  # the goal this turn serves (continued or new)
    declined: bool = False  # the shopper said no to the pending action
    shop: Any = None  # the shopping turn to serve (understand.shopping.ShopTurn)
    dropped: str | None = None  # the intent of a pending goal this message dropped ("never mind")
    clarify: bool = False  # the reply asks one clarifying question (a vague message, no goal to continue)


@dataclass
class TurnFacts:
    """What the tools returned: the only facts a reply may state."""

    hits: list[dict[str, Any]] = field(default_factory=list)  # full product records
    search_meta: dict[str, Any] = field(default_factory=dict)
    order: dict[str, Any] | None = None  # only once the shopper is verified for it
    order_missing: bool = False
    found: str | None = None  # an order that exists but whose facts are withheld (not verified)
    verified: bool = False
    newly_verified: bool = False
    verify_failed: bool = False
    locked: bool = False  # too many wrong factors for this order
    action: dict[str, Any] | None = None  # what a confirmed action did: {"kind", "ok", "reason", ...}
    customer_orders: list[dict[str, Any]] = field(default_factory=list)
    policy: tuple[str, str] | None = None  # (title, text) of the best passage
    passages: list[Any] = field(default_factory=list)  # gateway.turn.tools.Passage, best first
    kb_asked: bool = False  # the knowledge base answered the look-up (with passages or none)
    kb_topic: str | None = None  # the label's help question asked when the words found nothing
    # a shopping turn: its kind, the active search it leaves, the relaxations a no-match offers
    shopping: dict[str, Any] = field(default_factory=dict)
    degraded: list[str] = field(default_factory=list)

    @property
    def products(self) -> list[dict[str, Any]]:
        """The slim view the widget shows and the evidence records."""
        return [product_view(h) for h in self.hits]


@dataclass
class Outcome:
    """How the turn ends, once the facts are in: the move the reply makes, what an offered action
    would do, and the conversation state it leaves (the goal, newly verified orders)."""

    move: Move
    goal: Goal | None = None
    verified: list[str] = field(default_factory=list)
    offer: dict[str, Any] | None = None  # the action a CONFIRM move describes
    refusal: str | None = None  # why a proposed action is not possible (status, window_closed…)


@dataclass
class Phrased:
    text: str
    source: str  # llm | template | cache
    verdict: dict[str, Any] | None = None
    degraded: list[str] = field(default_factory=list)


@dataclass
class TurnResult:
    message_id: str
    reply: str
    intent: dict[str, Any]
    slots: dict[str, Any]
    products: list[dict[str, Any]]
    handoff: bool
    degraded: list[str]
    status: str
    lang: str
    source: str  # llm | template | cache | none (agent is handling)
    evidence: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The contract's JSON for a turn."""
        return {
            "message_id": self.message_id,
            "reply": {"text": self.reply, "source": self.source, "lang": self.lang},
            "intent": self.intent,
            "slots": self.slots,
            "products": self.products,
            "handoff": self.handoff,
            "degraded": self.degraded,
            "status": self.status,
        }

    @classmethod
    def from_public(cls, d: dict[str, Any], evidence: dict[str, Any]) -> TurnResult:
        reply = d["reply"]
        return cls(d["message_id"], reply["text"], d["intent"], d["slots"], d["products"], d["handoff"],
                   d["degraded"], d.get("status", "bot"), reply.get("lang", "en"), reply.get("source", "template"),
                   evidence)


def product_view(hit: dict[str, Any]) -> dict[str, Any]:
    """What the widget shows and the evidence records for one product."""
    attrs = hit.get("attributes") or {}
    out = {k: hit.get(k) for k in ("id", "title", "price", "currency", "score", "category", "brand",
                                   "stock", "url", "image_url")}
    if attrs.get("title_zh"):
        out["title_zh"] = attrs["title_zh"]
    if hit.get("scorers"):
        out["scorers"] = hit["scorers"]
    return out
