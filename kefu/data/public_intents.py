"""Build `intents_public.csv`: public, licensed intent-training utterances mapped to kefu's taxonomy.

kefu's intent model used to learn only from the project's own phrasings (`intents.csv`), so it learnt how
the project writes, not how shoppers write. This builder adds text written by other people, from the
*training* splits of public data sets, relabelled with the 72 intents of `eval/taxonomy_proposal.md`:

- HINT3 (ODbL 1.0 / DbCL 1.0): real queries to two Indian web shops' chatbots (SOF mattresses, CureKart);
  shop names are replaced by "Kefu" so the model does not learn other shops' names.
- Bitext (CDLA-Sharing-1.0): synthetic, linguist-curated customer-service utterances; order numbers become
  the demo order id KF100042.
- BANKING77 (CC BY 4.0): crowd-written banking queries, used as English `out_of_scope`.
- CrossWOZ (Apache-2.0): Chinese crowd travel dialogues, used as Chinese `out_of_scope`, `thanks`, `goodbye`.
- CMRC 2018 (CC BY-SA 4.0): crowd-written Chinese questions about Wikipedia articles (general knowledge:
  places, people, plants, history…), used as Chinese `out_of_scope` so general questions are not read as
  shop intents; questions about buying, paying or delivery are dropped (`ZH_SHOP_WORDS`).
- Chinese medical dialogue data (MIT): patients' question titles from an online medical consultation site
  ("高血压患者能吃党参吗？", "哪家医院能治胃反流"), used as Chinese `out_of_scope`: the demo shop sells no
  medicine, so health questions are not its business; same shopping filter.
- WebQuestions (CC BY 4.0): English questions from Google Suggest (who/what/where… about people, places,
  films), used as English `out_of_scope`, with the same shopping filter (`EN_SHOP_WORDS`).

The evaluation sets (`eval/conversations.jsonl`, `eval/oos.csv`) are never a source; they are read only to
drop any row whose normalised text equals an evaluation text, because common short phrasings ("cancel my
order", "好的，谢谢。") occur in both and training on them would inflate the scores.

Run: `python -m kefu.data.public_intents --out kefu/data/intents_public.csv` (progress on stderr).
Everything is deterministic: fixed seeds, sorted inputs, first occurrence wins on duplicates.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import random
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kefu.vocab.topics import EN_SHOP_WORDS, ZH_SHOP_WORDS

HERE = Path(__file__).parent
EVAL = HERE / "eval"
SHARED_CANDIDATES = (Path("/work/shared/data"), HERE.parents[1].parent / "shared" / "data")

HINT3_GIT = Path("/work/.mirror/hellohaptik+HINT3/repo")
HINT3_COMMIT = "99965c892ea9a6801a87083d3861b0b04c91a4e7"
HINT3_FILES = {"hint3-sofmattress": "dataset/v2/train/sofmattress_train.csv",
               "hint3-curekart": "dataset/v2/train/curekart_train.csv"}
CROSSWOZ_GIT = Path("/work/.mirror/thu-coai+CrossWOZ/repo")
CROSSWOZ_COMMIT = "df82c9fdff91b9b130f2d6b89110d3870ba6260e"
# data/crosswoz/train.json.zip is not in the snapshot store (over its size limit); this file holds the user
# turns of the *train* split (ConvLab-2's generate_auto_template.py reads train.json.zip), grouped by dialog act.
CROSSWOZ_FILE = "convlab2/nlg/template/crosswoz/auto_user_template_nlg.json"
CMRC_GIT = Path("/work/.mirror/ymcui+cmrc2018/repo")
CMRC_COMMIT = "c0eb1b6ba219847457e6af3180da722bbeb656af"
# squad-style-data/cmrc2018_train.json is not in the snapshot store (over its size limit); the trial file is
# the organisers' separately released sample (neither the dev nor a test split), so no CMRC dev or test file is read.
CMRC_FILE = "squad-style-data/cmrc2018_trial.json"
MEDICAL_GIT = Path("/work/.mirror/Toyhom+Chinese-medical-dialogue-data/repo")
MEDICAL_COMMIT = "26724a4357fcd142f0cab81188cacf1a2dd8a827"
# The per-department CSVs are not in the snapshot store (over its size limit); this is the repo's sample of the
# internal-medicine file (GB18030; columns department,title,ask,answer). The data set has no splits.
MEDICAL_FILE = "样例_内科5000-6000.csv"
WEBQ_GIT = Path("/work/.mirror/brmson+dataset-factoid-webquestions/repo/.git")
WEBQ_COMMIT = "668890853388010fe6ae9a5eb035a7917b88933b"
# main/trainmodel.json is the part of the original WebQuestions *train* split meant for training (that repo
# keeps devtest and val, also cut from train, apart); the test split is not read.
WEBQ_FILE = "main/trainmodel.json"
BITEXT_COMMIT = "e970229e6473109417301b5edddb283917a10aac"
BANKING77_COMMIT = "57ec275d8078af65b7731c2a98be812d844a6d6b"

CAP_PER_LABEL = 150  # rows per (label, source) for HINT3
BITEXT_CAP = 120
BANKING77_CAP = 500
CROSSWOZ_OOS_CAP = 500
CROSSWOZ_SOCIAL_CAP = 100
CROSSWOZ_SOCIAL_MAX_CHARS = 16  # longer closing turns also comment on the trip; keep the plain ones
CMRC_OOS_CAP = 500
ZH_QUESTION_MAX_CHARS = 30  # short, search-like questions; long CMRC ones paraphrase a passage sentence
MEDICAL_OOS_CAP = 300
WEBQ_OOS_CAP = 400
SEED = 20261204
DEMO_ORDER_ID = "KF100042"
DEMO_INVOICE_ID = "INV-100042"

Rule = tuple[str, str | None]  # (regex searched case-insensitively, label or None = drop the row)

# HINT3 labels → taxonomy. A str maps every row; a list of rules is tried in order and the first matching
# regex decides (the empty regex is the fallback); None drops the row. Labels were read row by row: where one
# HINT3 label mixes several requests (CHAT_WITH_AGENT holds complaints too) the rules split it.
HINT3_SOF: dict[str, str | list[Rule] | None] = {
    "EMI": "installment_payment",
    "COD": "payment_methods",
    "ORDER_STATUS": "order_status",
    "DELAY_IN_DELIVERY": "delivery_problem",
    "CANCEL_ORDER": "cancel_order",
    "RETURN_EXCHANGE": [(r"policy|how do i return", "return_policy"), (r"refund|money back", "refund_request"),
                        (r"exchange|replace", "exchange_request"), (r"return", "return_request"),
                        ("", "return_policy")],
    "WARRANTY": "warranty",
    "CHECK_PINCODE": [(r"how many days", "delivery_time"), ("", "delivery_area")],
    "DISTRIBUTORS": [(r"price", None), (r"dealer", "out_of_scope"), (r"head office", "contact_info"),
                     ("", "store_locations")],  # "we want dealership" = becoming a reseller
    "SIZE_CUSTOMIZATION": "product_customization",
    "WHAT_SIZE_TO_ORDER": "size_guide",
    "COMPARISON": [(r"good for my back|which mattress to buy", "recommendation"), ("", "product_comparison")],
    "OFFERS": [(r"give me some discount", "discount_request"), ("", "coupon")],
    "MATTRESS_COST": "price_question",
    "PRODUCT_VARIANTS": [(r"best", "recommendation"), (r"feature|foam|type of", "product_question"),
                         (r"want to buy", "place_order"), ("", "product_search")],
    "100_NIGHT_TRIAL_OFFER": [(r"check offers", "coupon"), ("", "return_policy")],
    "LEAD_GEN": [(r"buy|order", "place_order"), (r"how to get in touch", "contact_info"), ("", "human_agent")],
    "ABOUT_SOF_MATTRESS": None,  # asks about the other company itself, not about a product
    "ORTHO_FEATURES": [(r"pain|ache|problem|disc|cervical", "recommendation"), ("", "product_question")],
    "ERGO_FEATURES": "product_question",
    "PILLOWS": "product_search",
}
HINT3_CUREKART: dict[str, str | list[Rule] | None] = {
    "CALL_CENTER": "contact_info",
    "CANCEL_ORDER": "cancel_order",
    "CHAT_WITH_AGENT": [
        (r"urgent|emergency|immediate", None),
        (r"fraud|complain|pathetic|poor|useless|waste|slow|bad service|not (available|reachable|picking)"
         r"|unavailable|no one is answering|done with", "complaint"),
        ("", "human_agent")],
    "CONSULT_START": "out_of_scope",  # diet and fitness plans
    "DELAY_IN_PARCEL": "delivery_problem",
    "EXPIRY_DATE": [(r"receive", "defective_item"), ("", "product_question")],
    "FRANCHISE": "out_of_scope",  # seller / dealership sign-up
    "ORDER_STATUS": [(r"^where do you live$|early", None), (r"tracking (number|id)", "tracking_number"),
                     ("", "order_status")],
    "INTERNATIONAL_SHIPPING": "international_shipping",
    "MODES_OF_PAYMENTS": [(r"can't make", "payment_issue"), ("", "payment_methods")],
    "MODIFY_ADDRESS": "change_address",
    "ORDER_QUERY": None,  # "I have a query related to my order": no request a single intent could serve
    "ORDER_TAKING": [(r"\bcod\b|cash on delivery|pay on delivery|cash later|payment in cash", "payment_methods"),
                     (r"still delivering", "shipping_info"), ("", "place_order")],
    "ORIGINAL_PRODUCT": [(r"seems fake|is fake|got fake|fake after", "defective_item"), ("", "product_question")],
    "REFUNDS_RETURNS_REPLACEMENTS": [
        (r"refund (or|&) replacement|returned|parcel return|replacement order|by mistake", None),
        (r"refund policy", "refund_policy"),
        (r"^(any )?return policy$", "return_policy"),
        (r"wrong +items? (received|shipped)|did not order what|completely different", "wrong_item"),
        (r"missing", "missing_item"),
        (r"tampered", "damaged_item"),
        (r"refund status|where is my refund|refund not received|received my refund|how much time|"
         r"when i will get|^my refund$", "refund_status"),
        (r"replace|exchange", "exchange_request"),
        (r"refund|money back", "refund_request"),
        (r"information for return", "return_policy"),
        (r"return", "return_request"),
        ("", None)],
    "PAYMENT_AND_BILL": [(r"deducted|debited", "order_confirmation"), (r"payments? *(and|&) *bills?", None),
                         (r"bill|invoice", "invoice_request"), ("", None)],
    "PORTAL_ISSUE": "feedback",  # site bug reports
    "CHECK_PINCODE": [(r"how many days", "delivery_time"), (r"product service", None), ("", "delivery_area")],
    "RECOMMEND_PRODUCT": [
        (r"select another goal", None),
        (r"what are all the products|all kinds of products|which products can|give me all|browse", "product_search"),
        (r"^i (want to|wanna|need to) (buy|purchase|get the product)$|^need to buy$|^i wanna buy$", "place_order"),
        (r"best|suggest|recommend|help|confused|\bgain\b|\blose\b|loss|reduce|grow|goal|health|muscle|"
         r"\bbody\b|beginner|energy|boost|weight(?! gainer)", "recommendation"),
        ("", "product_search")],
    "REFER_EARN": "coupon",  # referral codes are promo codes
    "RESUME_DELIVERY": [
        (r"not received|not getting any update", "delivery_problem"),
        (r"order (today|now|right now)|order today|when (will|can) i get|when i'll be|how (long|soon|much time)|"
         r"delivery (time|date|period)|exact delivery|expacted time|days u mean|arrive|reach|in how many days|"
         r"long will it take",
         "delivery_time"),
        (r"my address", "delivery_area"),
        ("", "shipping_info")],
    "SIDE_EFFECT": "product_question",
    "SIGN_UP": "account_help",
    "START_OVER": None,  # menu navigation of that bot
    "STORE_INFORMATION": "store_locations",
    "USER_GOAL_FORM": "out_of_scope",  # that shop's fitness-goal questionnaire
    "WORK_FROM_HOME": None,  # mixes office opening, lockdown and small talk; no clean intent
    "IMMUNITY": "out_of_scope",  # health advice
}
HINT3_MAPS = {"hint3-sofmattress": HINT3_SOF, "hint3-curekart": HINT3_CUREKART}
BRAND_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\bsof\s+mattress(es)?\b", "Kefu"), (r"\bsof\b", "Kefu"),
    (r"\bcure\s*kart\b", "Kefu"), (r"\bhea(l)?thkart\b", "Kefu"),
)

BITEXT_MAP: dict[str, str] = {
    "track_order": "order_status", "get_invoice": "invoice_request", "check_invoice": "invoice_request",
    "check_payment_methods": "payment_methods", "delivery_options": "shipping_info",
    "delivery_period": "delivery_time", "review": "feedback", "contact_customer_service": "contact_info",
    "contact_human_agent": "human_agent", "recover_password": "password_reset",
    "registration_problems": "login_problem", "create_account": "account_help", "delete_account": "delete_account",
    "edit_account": "update_account", "switch_account": "update_account",
    "newsletter_subscription": "newsletter_subscription", "get_refund": "refund_request",
    "track_refund": "refund_status", "check_refund_policy": "refund_policy",
    "check_cancellation_fee": "cancel_order", "set_up_shipping_address": "change_address",
    "change_shipping_address": "change_address", "complaint": "complaint", "place_order": "place_order",
    "change_order": "change_order", "cancel_order": "cancel_order", "payment_issue": "payment_issue",
}

# BANKING77 categories kept as out_of_scope: pure banking (transfers, top-ups, cash, PINs, exchange rates).
# Left out, because a shop bot may own them: refunds, double or unrecognised charges, declined / pending /
# reverted card payments, Apple/Google Pay, accepted cards, card delivery, account deletion, identity checks,
# personal details, passcodes, wrong amounts.
BANKING77_KEEP: frozenset[str] = frozenset({
    "activate_my_card", "age_limit", "atm_support", "automatic_top_up", "balance_not_updated_after_bank_transfer",
    "balance_not_updated_after_cheque_or_cash_deposit", "beneficiary_not_allowed", "cancel_transfer",
    "card_about_to_expire", "card_linking", "card_swallowed", "cash_withdrawal_charge",
    "cash_withdrawal_not_recognised", "change_pin", "compromised_card", "declined_cash_withdrawal",
    "declined_transfer", "disposable_card_limits", "exchange_charge", "exchange_rate", "exchange_via_app",
    "failed_transfer", "fiat_currency_support", "get_disposable_virtual_card", "getting_spare_card",
    "getting_virtual_card", "lost_or_stolen_card", "pending_cash_withdrawal", "pending_top_up", "pending_transfer",
    "pin_blocked", "receiving_money", "top_up_by_bank_transfer_charge", "top_up_by_card_charge",
    "top_up_by_cash_or_cheque", "top_up_failed", "top_up_limits", "top_up_reverted", "topping_up_by_card",
    "transfer_fee_charged", "transfer_into_account", "transfer_not_received_by_recipient", "transfer_timing",
    "verify_source_of_funds", "verify_top_up", "wrong_exchange_rate_for_cash_withdrawal",
})

CROSSWOZ_MIXED = re.compile(r"[?？]|886|拜拜.*谢|谢.*(再见|拜)|(再见|拜).*谢")

# General questions that mention these are dropped: a shop's customer service owns orders, delivery, returns
# and refunds, coupons, products and their prices, sizes and payment problems, so such a question must not be
# taught as out_of_scope even when its source asked it about something else ("为什么次磷酸的购买…受到管制").
# Reading-comprehension questions whose subject is only a pronoun or points back to the passage ("他在哪一年…",
# "该公司…", "文中…") are not questions anyone would type; they are skipped.
ZH_PASSAGE_REFERENCE = re.compile(r"他|她|它|牠|其|该|此|这|那|上述|文中|本文|前者|后者")
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Row:
    """One output row; `text` already cleaned of other shops' names and placeholders."""

    text: str
    label: str
    lang: str
    source: str


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays clean."""
    print(f"[public_intents] {message}", file=sys.stderr, flush=True)


def normalise(text: str) -> str:
    """Lower-case, turn punctuation and symbols into spaces, collapse whitespace (the dedup and leak key)."""
    chars = (" " if unicodedata.category(c)[0] in "PSZ" else c for c in text.lower())
    return " ".join("".join(chars).split())


def git_show(git_dir: Path, commit: str, path: str) -> bytes:
    """Read one file of a bare mirror at a fixed commit."""
    return subprocess.run(["git", "-C", str(git_dir), "show", f"{commit}:{path}"],
                          check=True, capture_output=True).stdout


def shared_dir() -> Path:
    """The shared data folder: /work/shared/data, else ../shared/data next to the checkout."""
    for candidate in SHARED_CANDIDATES:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no shared data folder among {SHARED_CANDIDATES}")


def capped(rows: list[Row], cap: int, seed: int) -> list[Row]:
    """Keep at most `cap` rows per label, chosen by a seeded shuffle, in input order."""
    by_label: dict[str, list[int]] = collections.defaultdict(list)
    for i, row in enumerate(rows):
        by_label[row.label].append(i)
    keep: set[int] = set()
    for label in sorted(by_label):
        idx = by_label[label]
        random.Random(f"{seed}|{label}").shuffle(idx)
        keep.update(idx[:cap])
    return [row for i, row in enumerate(rows) if i in keep]


def apply_rules(text: str, mapping: str | list[Rule] | None) -> str | None:
    """Decide one HINT3 row's taxonomy label from its source label's mapping."""
    if mapping is None or isinstance(mapping, str):
        return mapping
    for pattern, label in mapping:
        if re.search(pattern, text, re.IGNORECASE):
            return label
    return None


def debrand(text: str) -> str:
    """Replace other shops' names by "Kefu" and tidy the spaces."""
    for pattern, repl in BRAND_PATTERNS:
        text = re.sub(pattern, repl, text, flags=re.IGNORECASE)
    return " ".join(text.split())


def hint3_rows() -> Iterator[Row]:
    """HINT3 v2 *train* rows of the two shops, relabelled, debranded and capped per label."""
    for source, path in HINT3_FILES.items():
        reader = csv.DictReader(io.StringIO(git_show(HINT3_GIT, HINT3_COMMIT, path).decode("utf-8")))
        rows = []
        for record in reader:
            text = record["sentence"].strip()
            label = apply_rules(text, HINT3_MAPS[source][record["label"]])
            if label and text:
                rows.append(Row(debrand(text), label, "en", source))
        log(f"{source}: {len(rows)} mapped rows")
        yield from capped(rows, CAP_PER_LABEL, SEED)


def bitext_text(record: dict[str, str]) -> str:
    """The utterance with order and invoice numbers replaced by the demo shop's ids."""
    text = record["utterance"]
    demo = {"order_id": DEMO_ORDER_ID, "invoice_id": DEMO_INVOICE_ID}.get(record["entity_type"])
    if demo and record["entity_value"]:
        text = text.replace(record["entity_value"], demo)
    text = re.sub(r"\{\{[^}]*\}\}", DEMO_ORDER_ID, text)  # none in this commit; kept for safety
    return " ".join(text.split())


def bitext_rows() -> Iterator[Row]:
    """Bitext *train* utterances, intents mapped, ≤ BITEXT_CAP per taxonomy label."""
    with (shared_dir() / "bitext_customer_support" / "intent_train.csv").open(encoding="utf-8") as f:
        rows = [Row(bitext_text(r), BITEXT_MAP[r["intent"]], "en", "bitext") for r in csv.DictReader(f)]
    log(f"bitext: {len(rows)} rows read")
    yield from capped(rows, BITEXT_CAP, SEED)


def spread(rows: list[Row], key: dict[Row, str], total: int, seed: int) -> list[Row]:
    """Pick about `total` rows spread evenly over the groups given by `key` (round-robin, seeded)."""
    groups: dict[str, list[Row]] = collections.defaultdict(list)
    for row in rows:
        groups[key[row]].append(row)
    for name in sorted(groups):
        random.Random(f"{seed}|{name}").shuffle(groups[name])
    picked: list[Row] = []
    depth = 0
    while len(picked) < total and any(depth < len(g) for g in groups.values()):
        picked.extend(groups[n][depth] for n in sorted(groups) if depth < len(groups[n]))
        depth += 1
    return picked[:total]


def banking77_rows() -> Iterator[Row]:
    """BANKING77 *train* queries of pure-banking categories as English out_of_scope."""
    with (shared_dir() / "banking77" / "train.csv").open(encoding="utf-8") as f:
        records = [r for r in csv.DictReader(f) if r["category"] in BANKING77_KEEP]
    key = {}
    for r in records:
        key[Row(" ".join(r["text"].split()), "out_of_scope", "en", "banking77")] = r["category"]
    log(f"banking77: {len(key)} rows in {len(BANKING77_KEEP)} kept categories")
    yield from spread(list(key), key, BANKING77_CAP, SEED)


def crosswoz_acts() -> dict[str, list[str]]:
    """CrossWOZ train user turns grouped by dialog-act signature (e.g. 'General+thank+none')."""
    return json.loads(git_show(CROSSWOZ_GIT, CROSSWOZ_COMMIT, CROSSWOZ_FILE).decode("utf-8"))


def crosswoz_social(acts: dict[str, list[str]]) -> Iterator[Row]:
    """Pure thanks / goodbye turns: 谢 → thanks, 再见/拜 → goodbye; questions and mixed turns skipped."""
    for act, label, must in (("General+thank+none", "thanks", "谢"), ("General+bye+none", "goodbye", "再见|拜")):
        texts = sorted({t.strip() for t in acts.get(act, []) if re.search(must, t) and not CROSSWOZ_MIXED.search(t)
                        and len(t.strip()) <= CROSSWOZ_SOCIAL_MAX_CHARS})
        random.Random(f"{SEED}|{label}").shuffle(texts)
        yield from (Row(t, label, "zh", "crosswoz") for t in texts[:CROSSWOZ_SOCIAL_CAP])


def crosswoz_oos(acts: dict[str, list[str]]) -> Iterator[Row]:
    """Travel requests (hotels, sights, food, metro, taxi) without slot placeholders as Chinese out_of_scope."""
    key: dict[Row, str] = {}
    for act in sorted(acts):
        if not act or act.startswith("General") or "Request" not in act:
            continue
        domain = act.split("+")[1]
        for text in acts[act]:
            if "[" not in text and len(text.strip()) >= 6:
                key.setdefault(Row(text.strip(), "out_of_scope", "zh", "crosswoz"), domain)
    log(f"crosswoz: {len(key)} candidate out_of_scope turns")
    return iter(spread(list(key), key, CROSSWOZ_OOS_CAP, SEED))


def crosswoz_rows() -> Iterator[Row]:
    """All CrossWOZ rows: social turns first (they are rarer), then out_of_scope."""
    acts = crosswoz_acts()
    yield from crosswoz_social(acts)
    yield from crosswoz_oos(acts)


def zh_question_ok(text: str) -> bool:
    """A short Chinese general question that names its subject and is not about shopping."""
    return (len(text) <= ZH_QUESTION_MAX_CHARS and bool(CJK.search(text)) and not ZH_PASSAGE_REFERENCE.search(text)
            and not any(word in text for word in ZH_SHOP_WORDS) and not re.search(r"\d{9,}", text))


def cmrc_rows() -> Iterator[Row]:
    """CMRC 2018 trial questions that pass `zh_question_ok`, spread over the Wikipedia articles."""
    data = json.loads(git_show(CMRC_GIT, CMRC_COMMIT, CMRC_FILE).decode("utf-8"))["data"]
    key: dict[Row, str] = {}
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                text = " ".join(qa["question"].split())
                if zh_question_ok(text):
                    key.setdefault(Row(text, "out_of_scope", "zh", "cmrc2018"), article["title"])
    log(f"cmrc2018: {len(key)} candidate questions in {len(set(key.values()))} articles")
    return iter(spread(list(key), key, CMRC_OOS_CAP, SEED))


def medical_rows() -> Iterator[Row]:
    """Question titles of the medical consultation sample, spread over the departments."""
    text_csv = git_show(MEDICAL_GIT, MEDICAL_COMMIT, MEDICAL_FILE).decode("gb18030")
    key: dict[Row, str] = {}
    for record in csv.DictReader(io.StringIO(text_csv)):
        text = " ".join(record["title"].split())
        if zh_question_ok(text):
            key.setdefault(Row(text, "out_of_scope", "zh", "medical-dialogue-zh"), record["department"])
    log(f"medical-dialogue-zh: {len(key)} candidate titles in {len(set(key.values()))} departments")
    return iter(spread(list(key), key, MEDICAL_OOS_CAP, SEED))


def webquestions_rows() -> Iterator[Row]:
    """WebQuestions train (trainmodel) questions without shopping words, spread over their question words."""
    records = json.loads(git_show(WEBQ_GIT, WEBQ_COMMIT, WEBQ_FILE).decode("utf-8"))
    key: dict[Row, str] = {}
    for record in records:
        text = " ".join(record["qText"].split())
        if text and not EN_SHOP_WORDS.search(text) and not CJK.search(text):
            key.setdefault(Row(text, "out_of_scope", "en", "webquestions"), text.split()[0].lower())
    log(f"webquestions: {len(key)} candidate questions")
    return iter(spread(list(key), key, WEBQ_OOS_CAP, SEED))


def eval_texts() -> set[str]:
    """Normalised texts of the evaluation sets, only to keep them out of the training data."""
    texts: set[str] = set()
    with (EVAL / "conversations.jsonl").open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                texts.update(normalise(t["user"]) for t in json.loads(line)["turns"])
    with (EVAL / "oos.csv").open(encoding="utf-8") as f:
        texts.update(normalise(r["text"]) for r in csv.DictReader(f))
    return texts


def dedup(rows: Iterable[Row], forbidden: set[str]) -> list[Row]:
    """Drop empty, evaluation-identical and repeated (normalised) texts; the first occurrence wins."""
    seen: set[str] = set()
    kept: list[Row] = []
    dropped: collections.Counter[str] = collections.Counter()
    for row in rows:
        key = normalise(row.text)
        reason = "empty" if not key else "eval" if key in forbidden else "duplicate" if key in seen else ""
        if reason:
            dropped[reason] += 1
            continue
        seen.add(key)
        kept.append(row)
    log(f"dropped: {dict(dropped)}")
    return kept


def build() -> list[Row]:
    """All sources in priority order (real HINT3 first), deduplicated and decontaminated."""
    rows: list[Row] = []
    for name, produce in (("hint3", hint3_rows), ("bitext", bitext_rows), ("crosswoz", crosswoz_rows),
                          ("banking77", banking77_rows), ("cmrc2018", cmrc_rows),
                          ("webquestions", webquestions_rows)):
        # `medical_rows` (Chinese medical-consultation titles) is left out: the repository is MIT, but
        # its text was collected from a consultation site whose users did not license it.
        log(f"reading {name}")
        rows.extend(produce())
    return dedup(rows, eval_texts())


def write(rows: list[Row], out: Path) -> None:
    """Write the CSV (text,label,lang,source) sorted by source, label and text for stable diffs."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label", "lang", "source"])
        for row in sorted(rows, key=lambda r: (r.source, r.label, r.text)):
            writer.writerow([row.text, row.label, row.lang, row.source])


def summary(rows: list[Row]) -> None:
    """Counts per source and language, for the log and SOURCES.md."""
    for (source, lang), n in sorted(collections.Counter((r.source, r.lang) for r in rows).items()):
        log(f"{source} {lang}: {n}")
    log(f"total: {len(rows)} rows, {len({r.label for r in rows})} labels")


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "intents_public.csv")
    args = parser.parse_args(argv)
    rows = build()
    write(rows, args.out)
    summary(rows)
    log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
