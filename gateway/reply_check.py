"""The reply check: what a generated reply must be, beyond stating no false number.

The grounding check (`gateway.grounding`) stops invented ids, numbers and dates and replies that
answer nothing. Small generators fail in other ways a shopper notices at once, so a generated
reply must also be:

- **well formed**: complete sentences in the shopper's language, ending as a sentence ends, not a
  fragment ("Sorry, a great day.", "Of course. Our policy.", "Hi there! I can help with?"), not
  looping, brackets balanced;
- **complete**: it carries every fact the decision put into the turn — every number, duration,
  amount and named method of the knowledge-base sentences that answer the question, the order's
  key facts (id, status, tracking and expected or delivered date), every shown product with its
  price, a shipping quote's figures;
- **honest about actions**: it claims no handoff, cancellation, refund or email that the turn did
  not do (the gateway's templates word real actions; a generated reply never does one);
- **bounded**: it names no carrier or payment method, promises nothing free and states no
  spelled-out duration that the turn's facts do not contain.

Any failure sends the grounded template instead (`gateway.turn.phrase`). Pure functions of
(reply, ReplyContext), no I/O: cheap enough to run on every generated reply.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway import answers, grounding
from gateway.templates.policy import answer as policy_answer
from kefu.contracts import ReplyContext
from kefu.vocab import HAN_CLASS

Failure = tuple[str, str]

_CJK = re.compile(f"[{HAN_CLASS}]")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?", re.IGNORECASE)
# "no." abbreviates only before a number ("No. 5"); "Please reply yes or no." ends a sentence.
_ABBREV = re.compile(r"\b(?:(?:e\.g|i\.e|etc|vs|mr|mrs|ms|dr|approx|st)\.|no\.(?=\s*\d))", re.IGNORECASE)
_EN_SPLIT = re.compile(r"(?<=[.!?…])[\"')\]]?\s+")
_ZH_SPLIT = re.compile(r"(?<=[。！？!?…])\s*")
_EN_END = re.compile(r"[.!?…][\"')\]]*$")
_ZH_END = re.compile(r"[。！？.!?…～）)”\"]$")

# Words that open a reply without saying anything; a sentence of them alone is not an answer.
INTERJECTIONS = ("good news", "of course", "thank you", "thanks", "no problem", "sure thing", "hi there",
                 "hello there", "sorry", "sure", "certainly", "absolutely", "hi", "hello", "hey", "great",
                 "okay", "ok", "alright", "yes", "no", "unfortunately", "welcome", "happy to help", "got it",
                 "understood", "perfect", "dear customer", "there")
ZH_INTERJECTIONS = ("您好", "你好", "好的", "抱歉", "不好意思", "当然", "没问题", "谢谢", "不客气", "亲", "嗯",
                    "对不起", "非常抱歉", "收到", "明白")
# A sentence cannot end on these: it was cut off ("I can help with?", "Our policy is the.").
DANGLING = set("""a an the and or but nor with to for of in on at by from about into onto than as
our your my their his her its is are was were be been being can could will would shall should may might
must do does did has have had very please because if when while whose which who whom whether per via
not no any some each every both either neither such""".split())
ZH_DANGLING = ("和", "与", "或", "及", "把", "被", "对", "给", "从", "向", "为", "在", "因为", "如果", "但是",
               "而且", "以及", "我们的", "您的", "的是", "可以", "需要", "将", "会", "是", "了解", "关于")
# Finite verbs a reply's sentence may carry (any inflection): a sentence without one, and not a
# "label: value" line, is a fragment ("Sorry, a great day.").
AUX = set("""am is are was were be been being has have had do does did can could will would shall should may
might must isn't aren't wasn't weren't hasn't haven't hadn't don't doesn't didn't can't couldn't won't
wouldn't shouldn't mustn't cannot""".split())
VERBS = set("""accept add allow answer apply appear arrive ask assist begin book bring buy call cancel carry
change charge check choose click come confirm connect contact contain cost cover create deduct deliver depend
describe dispatch email end enter exchange expect explain fail feel find fit follow get give go guarantee
happen help hold include inform issue keep know last leave let like live look love make match mean need note
notify offer open order pack pay place plan prefer prepare process provide purchase reach read receive
recommend refund remain remember reply request require reserve respond restock return review run say see
select sell send ship show sign sit sound stand start stay suggest suit support take talk tell thank think
track transfer try update use vary view wait want wear welcome wish work write hear differ pass
forward share""".split())
IRREGULAR = set("""began bought brought came chose felt found gave got gone held kept knew left let made meant
paid put ran read said saw seen sent sold stood took told thought went wore written""".split())
_LABEL = re.compile(r"^[^:：]{1,40}[:：]\s*\S")
# A function word capitalised mid-sentence is where two texts were spliced together ("I'm afraid
# the order You can cancel…", "the order While an order is pending…").
SPLICE = set("""you we our if after while one to the this it your there here when once a an and or but for with
every each items orders standard express refunds returns please""".split())
_SPLICE = re.compile(r"(?<=[a-z,])\s+([A-Z][a-z]+)\b")

# Claims of an action. A generated reply never does one (actions are template-only turns), so
# each is false unless the turn's facts already say it happened (a cancelled order "has been
# cancelled"), or the policy text states it as a rule ("an order is cancelled before it ships").
_I = r"(?:\bi|\bwe)(?:'ve|’ve|'ll|’ll|'m|’m| have| will| am| are| just| now| already|'re|’re)*\s+"
HANDOFF_EN = re.compile(
    _I + r"(?:now\s+|just\s+)?(?:transferr?(?:ed|ing)?|connect(?:ed|ing)?|escalat(?:e|ed|ing)|pass(?:ed|ing)?|"
    r"forward(?:ed|ing)?|hand(?:ed|ing)?|assign(?:ed|ing)?)\s+(?:you|this|your|it)\b"
    r"|\b(?:transferring|connecting|escalating|forwarding)\s+(?:you|this|your)\b"
    r"|\byou(?:'ve|’ve| have)?\s+(?:been|are being|'re being|’re being)\s+(?:transferred|connected|escalated)"
    r"|\b(?:an?|our|the)\s+(?:human|live|real)?\s*(?:agent|person|representative|specialist|colleague|"
    r"team member|supervisor)\s+(?:will|is going to|'ll|’ll|is now|has been)\s+"
    r"(?:contact|reach|call|email|get|be|join|reply|help|assist|take|look)", re.IGNORECASE)
CANCEL_EN = re.compile(_I + r"(?:successfully\s+)?(?:cancel+ed|cancel+ing|cancel)\s+(?:it|your|the|this|order)\b",
                       re.IGNORECASE)
CANCEL_DONE_EN = re.compile(r"\b(?:has been|have been|was|is now|is|got)\s+(?:successfully\s+)?cancel+ed\b",
                            re.IGNORECASE)
REFUND_EN = re.compile(
    _I + r"(?:successfully\s+)?(?:issued|processed|refunded|initiated|started|sent|issue|process|refund|"
         r"initiate|start|send)\s+(?:you\s+)?(?:a|the|your|a full|the full|it)?\s*(?:full\s+)?refund"
    r"|" + _I + r"refund(?:ed)?\s+(?:you|it|the|your)", re.IGNORECASE)
REFUND_DONE_EN = re.compile(r"\brefund\s+(?:has been|was|is being|is now|have been)\s+"
                            r"(?:issued|processed|initiated|sent|approved|completed)", re.IGNORECASE)
EMAIL_EN = re.compile(
    _I + r"(?:sent|emailed|e-mailed|send|email|mailed|forwarded)\s+(?:you|it|a|an|the|your)\b"
    r"|\b(?:email|e-mail|label|confirmation|link|message)\s+(?:has been|was|is being|is on its way|have been)\s*"
    r"(?:sent|emailed)?", re.IGNORECASE)
HANDOFF_ZH = re.compile(r"(?:已|正在|现在|马上|立即|立刻|这就|稍后)(?:经)?(?:为您|帮您|给您|将您)?"
                        r"(?:转接|转给|转到|转交|转人工|接通|安排)"
                        r"|(?:人工客服|客服人员|专员|同事|客服)(?:会|将|稍后|马上|正在)(?:尽快|马上|稍后|立即|很快)?"
                        r"(?:联系|回复|致电|处理|为您)")
CANCEL_ZH = re.compile(r"(?:已|已经)(?:为您|帮您|给您)(?:成功)?取消"
                       r"|(?:我|我们)(?:已|已经)?(?:为您|帮您)?(?:成功)?取消了")
CANCEL_DONE_ZH = re.compile(r"已(?:经)?(?:成功)?取消|取消成功")
REFUND_ZH = re.compile(r"(?:已|已经)(?:为您|帮您|给您)(?:办理|申请|发起|处理)?退款"
                       r"|(?:我|我们)(?:已|已经)(?:为您|帮您)?退款")
REFUND_DONE_ZH = re.compile(r"退款已(?:经)?(?:发放|处理|退回|到账|完成|办理)|已(?:经)?退款")
EMAIL_ZH = re.compile(r"(?:已|已经)(?:为您|向您|给您|帮您)?(?:发送|发出|发)(?:了)?.{0,8}(?:邮件|邮箱|标签|链接)"
                      r"|(?:邮件|退货标签|确认函|链接).{0,4}已(?:经)?(?:发送|发出)")

# Names a reply may only use when the turn's facts do.
KNOWN_NAMES = ("UPS", "FedEx", "USPS", "DHL", "SF Express", "PayPal", "Visa", "Mastercard", "American Express",
               "Discover", "Apple Pay", "Google Pay", "Alipay", "WeChat Pay", "Klarna", "Afterpay", "顺丰",
               "支付宝", "微信支付")
_SPELLED = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|fifteen|"
                      r"twenty|thirty|forty|sixty|ninety|a couple of|a few|several)\s+(?:business\s+|working\s+)?"
                      r"(?:days?|weeks?|months?|hours?|minutes?|years?)\b", re.IGNORECASE)
_ZH_SPELLED = re.compile(r"[一二两三四五六七八九十]+\s*(?:个)?(?:工作日|天|周|星期|个月|小时|分钟|年)")
_FREE_EN = re.compile(r"\bfree\b|\bno (?:extra )?(?:charge|cost|fee)\b|\bat no cost\b", re.IGNORECASE)
_FREE_ZH = re.compile(r"免费|包邮|免运费")


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def sentences(text: str, lang: str) -> list[str]:
    """The reply cut into sentences ("e.g." and "$5.99" do not end one)."""
    if lang == "zh" and _CJK.search(text):
        parts = _ZH_SPLIT.split(text)
    else:
        masked = _ABBREV.sub(lambda m: m.group(0).replace(".", "\0"), text)
        parts = [p.replace("\0", ".") for p in _EN_SPLIT.split(masked)]
    return [p.strip() for p in parts if p and p.strip()]


def _strip_interjections(words: list[str], text: str) -> list[str]:
    """The sentence's words after any greeting or "Of course," that opens it."""
    low = " ".join(words)
    changed = True
    while changed and low:
        changed = False
        for inter in INTERJECTIONS:
            if low == inter or low.startswith(inter + " "):
                low = low[len(inter):].strip()
                changed = True
                break
    return low.split() if low else []


_ADVERBS = set("rather better also just happily gladly now still be not never first then soon".split())
_DET = set("a an the your our my their his her its this that these those each every".split())


def _has_verb(words: list[str]) -> bool:
    for i, w in enumerate(words):
        if i and words[i - 1] in _DET:
            continue  # "your order", "the return": a noun
        if w in AUX or w in IRREGULAR or w.endswith(("n't", "'s", "'re", "'m", "'ll", "'ve", "'d")):
            return True
        for suffix in ("", "s", "es", "ed", "d", "ing", "ied", "ies"):
            if suffix and not w.endswith(suffix):
                continue
            stem = w[: len(w) - len(suffix)] if suffix else w
            if stem in VERBS or (suffix in ("ied", "ies") and stem + "y" in VERBS):
                return True
            if suffix in ("ed", "ing") and len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in VERBS:
                return True  # shipped, shipping
            if suffix == "ing" and stem + "e" in VERBS:
                return True  # arriving
    return False


_PREPOSITIONS = {"with", "for", "about", "to", "from", "on", "in", "of", "at", "into"}
_WH = {"what", "which", "who", "whom", "where", "anything", "something", "everything"}


def _stranded(words: list[str], sent: str) -> bool:
    """A whole sentence that ends in a function word: a question's stranded preposition ("What
    can I help you with?", "what you're looking for?") or an infinitive ("…we want you to have.")."""
    if sent.rstrip().endswith(("?", "？")) and words[-1] in _PREPOSITIONS:
        return bool(_WH & set(words[:-1]))  # "I can help with?" has no object to strand
    return len(words) > 3 and words[-2] == "to" and words[-1] in ("have", "be", "do")


_REGRET = (("i'm", "afraid"), ("i", "am", "afraid"), ("i'm", "sorry"), ("i", "am", "sorry"))
_REGRET_OK = {"not", "so", "for", "about", "to", "of", "but"}


def _cut_regret(words: list[str]) -> bool:
    """ "I'm afraid the payment." — the responder's splice: a regret opener whose clause lost its
    verb ("I'm afraid not", "I'm sorry for the wait" and "I'm afraid we can't" are whole)."""
    for opener in _REGRET:
        if tuple(words[:len(opener)]) == opener:
            tail = words[len(opener):]
            if tail and tail[0] == "that":
                tail = tail[1:]
            return bool(tail) and tail[0] not in _REGRET_OK and not _has_verb(tail)
    return False


def _en_surface(words: list[str], sent: str) -> list[Failure]:
    """Where the sentence was cut or spliced: a dangling last word, an abbreviation, a function
    word capitalised mid-sentence, "I'll" without its verb."""
    if words[-1] in DANGLING and words[-1] not in ("no", "it") and not _stranded(words, sent):
        return [("fragment", f"sentence cut off after {words[-1]!r}: {sent!r}")]
    if _ABBREV.search(sent[-6:]) and sent.endswith("."):
        return [("fragment", f"sentence cut off after an abbreviation: {sent!r}")]
    for m in _SPLICE.finditer(sent):
        before = sent[:m.start()].split()
        if before and before[-1][:1].isupper():
            continue  # a name of two capitalised words: "American Express", "Priority Express"
        if m.group(1).lower() in SPLICE:
            return [("malformed", f"two sentences run together at {m.group(1)!r}: {sent!r}")]
    for i, w in enumerate(words):
        if w.endswith(("'d", "'ll")) and (i + 1 == len(words) or not (
                _has_verb(words[i + 1:i + 2]) or words[i + 1] in _ADVERBS)):
            return [("fragment", f"{w!r} without its verb: {sent!r}")]
    return []


def _en_sentence(sent: str, ctx_low: str) -> list[Failure]:
    words = _words(sent)
    if not words:
        return [("fragment", f"not a sentence: {sent!r}")]
    cut = _en_surface(words, sent)
    if cut:
        return cut
    rest = _strip_interjections(words, sent)
    if not rest:
        return []  # "Of course." / "Hi there!" — judged with the whole reply
    if _cut_regret(rest):
        return [("fragment", f"the clause after the apology has no verb: {sent!r}")]
    if " ".join(sent.lower().split()) in ctx_low or _LABEL.match(sent):
        return []  # quoted from the facts, or a "Tracking number: 1Z…" line
    if not _has_verb(rest):
        return [("fragment", f"no verb, not a complete sentence: {sent!r}")]
    first = next((c for c in sent if c.isalpha()), "")
    if first.islower() and not re.match(r"^[\W\d]*(?:e\.g|i\.e|iphone|ipad|e-)", sent.lower()):
        return [("malformed", f"sentence starts in lower case: {sent!r}")]
    return []


_ZH_TOPIC_ONLY = re.compile(r"(?:关于|对于|至于)[^，,；;：:]*")  # "关于优惠券": a topic, no predicate


def _zh_sentence(sent: str) -> list[Failure]:
    core = re.sub(r"[。！？!?.…～，,、；;：:\s“”\"'（）()]+$", "", sent)
    for inter in ZH_INTERJECTIONS:
        core = core.removeprefix(inter).lstrip("，,！!、 ")
    if not core:
        return []
    if _ZH_TOPIC_ONLY.fullmatch(core):
        return [("fragment", f"only a topic (关于…), nothing said about it: {sent!r}")]
    if core.endswith(ZH_DANGLING):
        return [("fragment", f"sentence cut off: {sent!r}")]
    last = re.split(r"[，,、；;：:]", core)[-1].strip()
    if len(re.findall(rf"[{HAN_CLASS}A-Za-z0-9]", last)) < 2:
        return [("fragment", f"a clause of one character ends the sentence: {sent!r}")]
    if len(re.findall(rf"[{HAN_CLASS}A-Za-z0-9]", core)) < 4:
        return [("fragment", f"too short to be a sentence: {sent!r}")]
    return []


def _repeats(sents: list[str], text: str) -> bool:
    norm = [" ".join(s.lower().split()) for s in sents if len(s) > 8]
    if len(norm) != len(set(norm)):
        return True
    words = _words(text)
    if any(words[i] == words[i + 1] == words[i + 2] for i in range(len(words) - 2)):
        return True
    grams = [tuple(words[i:i + 3]) for i in range(len(words) - 2)]
    return any(grams.count(g) >= 3 for g in set(grams))


def _without_titles(text: str, ctx: ReplyContext) -> str:
    """The reply less the product titles it lists: three pillows' "Memory Foam Pillow" is the
    catalog's words three times, not the reply repeating itself."""
    for p in ctx.products:
        for key in ("title", "title_zh"):
            t = p.get(key) or (p.get("attributes") or {}).get(key)
            if isinstance(t, str) and len(t) > 3:
                text = text.replace(t, "·")
    return text


def form(reply: str, ctx: ReplyContext) -> list[Failure]:
    """Complete, well-formed sentences (first failure only: one reason is enough to step aside)."""
    text = " ".join(reply.split())
    if not text:
        return [("empty", "empty reply")]
    zh = ctx.lang == "zh"
    if not (_ZH_END if zh else _EN_END).search(text):
        return [("fragment", "the reply does not end as a sentence ends")]
    for a, b in ("()", "（）", "[]", "“”"):
        if text.count(a) != text.count(b):
            return [("malformed", f"unbalanced {a}{b}")]
    sents = sentences(text, ctx.lang)
    if _repeats(sents, _without_titles(text, ctx)):
        return [("repeated", "the reply repeats itself")]
    ctx_low = " ".join(grounding.context_text(ctx).lower().split())
    substantive = 0
    for s in sents:
        if zh and _CJK.search(s):
            bad = _zh_sentence(s)
            core = s
            for inter in ZH_INTERJECTIONS:
                core = core.removeprefix(inter)
            substantive += bool(re.sub(r"[\W_]+", "", core))
        else:
            bad = _en_sentence(s, ctx_low)
            substantive += bool(_strip_interjections(_words(s), s))
        if bad:
            return bad
    if not substantive:
        return [("fragment", "only a greeting or an interjection, no sentence that says something")]
    return []


def _low(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def _date_in(value: Any, reply: str) -> bool:
    """A date fact is stated when the reply writes it in any form the grounding check reads."""
    iso = str(value or "")[:10]
    if not iso:
        return True
    if iso in reply:
        return True
    m = re.match(r"\d{4}-(\d{2})-(\d{2})", iso)
    return m is not None and (int(m.group(1)), int(m.group(2))) in grounding._dates(reply)


def _order_facts(reply: str, ctx: ReplyContext) -> list[str]:
    """The order's key facts for an order question: tracking and the expected date of a shipped
    order, the delivery date of a delivered one (id and status: `answers`)."""
    o = ctx.order or {}
    if ctx.intent not in ("order_status", "shipping_info", "delivery_issue", "missing_package") or not o:
        return []
    missing: list[str] = []
    low = reply.lower()
    if o.get("status") == "shipped":
        if o.get("tracking_number") and str(o["tracking_number"]).lower() not in low:
            missing.append("the tracking number")
        if o.get("eta") and not _date_in(o["eta"], reply):
            missing.append("the expected delivery date")
    if o.get("status") == "delivered" and o.get("delivered_at") and not _date_in(o["delivered_at"], reply):
        missing.append("the delivery date")
    return missing


def _product_facts(reply: str, ctx: ReplyContext) -> list[str]:
    """A search or recommendation names every shown product with its price; a price, stock or
    product question names the product."""
    shown = ctx.products[:3]
    if not shown:
        return []
    low = _low(reply)
    nums = answers.numbers_in(reply)
    missing: list[str] = []
    if ctx.intent in ("product_search", "recommendation"):
        for p in shown:
            if not any(part in low for part in answers.title_parts(p)):
                missing.append(f"product {p.get('id')}")
            elif p.get("price") is not None and round(float(p["price"]), 2) not in nums:
                missing.append(f"the price of {p.get('id')}")
    elif ctx.intent in ("price_question", "stock_availability", "product_question"):
        if not any(any(part in low for part in answers.title_parts(p)) for p in shown[:1]):
            missing.append("the product's name")
    return missing


def _shipping_facts(reply: str, ctx: ReplyContext) -> list[str]:
    q = ctx.shipping or {}
    nums = answers.numbers_in(reply)
    want = ("subtotal", "free_over") if q.get("free") else ("subtotal", "standard_fee", "total", "free_over")
    return [f"shipping {k}" for k in want if q.get(k) is not None and round(float(q[k]), 2) not in nums]


def _passage_facts(reply: str, ctx: ReplyContext) -> list[str]:
    """Every number (durations, amounts, days) and every named method of the sentences the
    template would quote: a reply that keeps only the first of them drops what was asked."""
    if ctx.order and ctx.intent in ("order_status", "cancel_order", "refund_status", "change_order"):
        return []  # the order answers these; the passage is background
    quoted = policy_answer(ctx) if (ctx.passages or ctx.policy) else ""
    if not quoted:
        return []
    got = answers.numbers_in(reply)
    missing = [f"{v:g}" for v in sorted(answers.numbers_in(quoted) - got)]
    low = reply.lower()
    missing += [n for n in KNOWN_NAMES if n.lower() in quoted.lower() and n.lower() not in low]
    return missing


def carried(reply: str, ctx: ReplyContext) -> list[Failure]:
    """The facts the decision put into the turn that the reply leaves out."""
    missing = _order_facts(reply, ctx) + _product_facts(reply, ctx)
    if ctx.shipping:
        missing += _shipping_facts(reply, ctx)
    elif not ctx.products and ctx.intent not in ("greeting", "goodbye", "thanks", "human_agent", "complaint"):
        missing += _passage_facts(reply, ctx)
    return [("incomplete", "leaves out " + ", ".join(missing))] if missing else []


def _in_policy(span: str, ctx: ReplyContext) -> bool:
    policy = " ".join(str(p.get("text") or "") for p in ctx.passages) + " " + (ctx.policy or "")
    return _low(span) in _low(policy)


def _done(ctx: ReplyContext, kind: str) -> bool:
    a = ctx.action or {}
    return bool(a.get("ok")) and str(a.get("kind") or "") == kind


def claimed_actions(reply: str, ctx: ReplyContext) -> list[Failure]:
    """Handoffs, cancellations, refunds and emails the reply claims but the turn did not do.
    Questions ("Shall I connect you?") and offers ("I can cancel it") claim nothing."""
    o = ctx.order or {}
    cancelled = o.get("status") == "cancelled" or _done(ctx, "cancel")
    refunded = str(o.get("refund_status") or "") in ("refunded", "refund_issued", "completed") or o.get(
        "status") == "refunded"
    out: list[Failure] = []
    for s in sentences(" ".join(reply.split()), ctx.lang):
        if s.rstrip().endswith(("?", "？")):
            continue
        checks = (
            ("handoff", (HANDOFF_EN, HANDOFF_ZH), ctx.move == "handoff"),
            ("cancel", (CANCEL_EN, CANCEL_ZH), _done(ctx, "cancel")),
            ("cancel", (CANCEL_DONE_EN, CANCEL_DONE_ZH), cancelled),
            ("refund", (REFUND_EN, REFUND_ZH), False),
            ("refund", (REFUND_DONE_EN, REFUND_DONE_ZH), refunded),
            ("email", (EMAIL_EN, EMAIL_ZH), False),
        )
        for kind, patterns, happened in checks:
            if happened:
                continue
            for rx in patterns:
                m = rx.search(s)
                if m and not _in_policy(s, ctx) and not _in_policy(m.group(0), ctx):
                    out.append(("claimed_action", f"claims a {kind} that did not happen: {m.group(0)!r}"))
                    break
    return out


_POLICY_LABEL = re.compile(r"\bour (\w+) policy\b|^\s*关于([^，,。：:]{1,8})[：:]", re.IGNORECASE)


def mislabelled(reply: str, ctx: ReplyContext) -> list[Failure]:
    """ "Here is our return policy: One coupon code can be used per order…" — a passage presented
    as another topic's policy. The named topic must be in the titles of the turn's passages."""
    titles = " ".join(str(p.get("title") or "") for p in ctx.passages).lower()
    if not titles:
        return []
    out: list[Failure] = []
    for m in _POLICY_LABEL.finditer(reply):
        topic = (m.group(1) or m.group(2)).lower()
        if topic[:5] not in titles and not (m.group(2) and any(ch in titles for ch in topic[:2])):
            out.append(("mislabelled", f"calls the passage our {topic} policy; it is about {titles[:60]!r}"))
    return out


def unknown_claims(reply: str, ctx: ReplyContext) -> list[Failure]:
    """Carriers, payment methods, "free" and spelled-out durations the turn's facts do not have."""
    ctx_low = grounding.context_text(ctx).lower() + " " + json.dumps(ctx.shipping or {}).lower()
    low = reply.lower()
    out: list[Failure] = []
    for name in KNOWN_NAMES:
        if re.search(r"(?<![a-z])" + re.escape(name.lower()) + r"(?![a-z])", low) and name.lower() not in ctx_low:
            out.append(("unknown_name", f"names {name}, which the facts do not"))
    free_in_ctx = bool(_FREE_EN.search(ctx_low) or _FREE_ZH.search(ctx_low) or (ctx.shipping or {}).get("free_over"))
    if (_FREE_EN.search(reply) or _FREE_ZH.search(reply)) and not free_in_ctx:
        out.append(("unknown_claim", "promises something free that the facts do not"))
    for m in list(_SPELLED.finditer(reply)) + list(_ZH_SPELLED.finditer(reply)):
        if m.group(0).lower() not in ctx_low:
            out.append(("unknown_claim", f"states {m.group(0)!r}, which the facts do not"))
    return out


def problems(reply: str, ctx: ReplyContext) -> list[Failure]:
    """Every failure of the reply check (empty: the reply may go out)."""
    text = reply.strip()
    failures = form(text, ctx)
    if failures and failures[0][0] == "empty":
        return failures
    return (failures + carried(text, ctx) + claimed_actions(text, ctx) + unknown_claims(text, ctx)
            + mislabelled(text, ctx))


def check(reply: str, ctx: ReplyContext) -> grounding.Verdict:
    """The grounding check, then this one: the verdict the gateway acts on for a whole reply."""
    verdict = grounding.check(reply, ctx)
    failures = problems(reply, ctx)
    return grounding.Verdict(verdict.ok and not failures, verdict.reasons + [r for _, r in failures],
                             verdict.codes + [c for c, _ in failures])
