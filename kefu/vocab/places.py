"""Places a shopper names: is the question about delivery outside the shop's own country?

"Do you deliver in Canada", "Available in Pakistan ?", "Do u have delivery at kerala",
"你们发货到加拿大吗": the shop's help text answers these in its international-shipping sentence,
but nothing in the words says "international", so both the intent model and the knowledge base's
sentence choice reached for the domestic standard-shipping line. Country and state/province
names come from pycountry (ISO 3166-1 and -2, English, and Chinese through its zh_CN
translations), so no gazetteer is kept by hand; the shop's own country (KEFU_SHOP_COUNTRY, ISO
alpha-2) and its states are domestic.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import lru_cache

import pycountry

# Subdivision kinds that shoppers name as "where I live" (districts and municipalities are too
# many, too short and too often ordinary words).
_SUBDIVISION_TYPES = frozenset({"State", "Province", "Union territory", "Territory"})
# ISO names that are also ordinary English words or too short to trust.
_AMBIGUOUS = frozenset({"central", "northern", "southern", "eastern", "western", "capital", "delta", "orange",
                        "centre", "north", "south", "east", "west", "sport", "chad", "jersey", "guinea", "turkey"})
MIN_NAME = 4
_ABROAD = re.compile(r"\b(?:abroad|overseas|internationally|international|worldwide|anywhere|other countr(?:y|ies)|"
                     r"outside (?:the )?(?:us|usa|country))\b|国外|海外|境外|国际|全球|其他国家", re.I)


def _plain(name: str) -> str:
    """Lower case without accents ("Tamil Nādu" → "tamil nadu")."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).lower()


def _country_names(c: object) -> set[str]:
    names = {getattr(c, k, "") for k in ("name", "common_name", "official_name")}
    first = str(getattr(c, "name", "")).split(",")[0]  # "Korea, Republic of" → "Korea"
    return {n for n in names | {first} if n}


@lru_cache(maxsize=4)
def _lexicon(home: str) -> tuple[re.Pattern[str], dict[str, str], re.Pattern[str], dict[str, str]]:
    home = home.upper()
    en: dict[str, str] = {}
    zh: dict[str, str] = {}
    tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)
    subdivisions = sorted((s for s in pycountry.subdivisions if s.type in _SUBDIVISION_TYPES),
                          key=lambda s: s.country_code != home)  # Georgia, US before Georgia the country
    for s in subdivisions:
        if s.country_code == home and len(s.name) >= MIN_NAME:
            en.setdefault(_plain(s.name), home)
    for c in pycountry.countries:
        for n in _country_names(c):
            en.setdefault(_plain(n), c.alpha_2)
            local = tr.gettext(n)
            if local != n and len(local) >= 2:
                zh.setdefault(local, c.alpha_2)
    for s in subdivisions:
        if len(s.name) >= MIN_NAME:
            en.setdefault(_plain(s.name), s.country_code)
    for n in list(en):
        if n in _AMBIGUOUS or len(n) < MIN_NAME:
            del en[n]
    if home == "US":  # what US shoppers call their own country
        en.update({"usa": "US", "america": "US", "united states": "US"})
    zh.setdefault("美国", "US")
    en_rx = re.compile(r"\b(" + "|".join(sorted(map(re.escape, en), key=len, reverse=True)) + r")\b")
    zh_rx = re.compile("|".join(sorted(map(re.escape, zh), key=len, reverse=True)))
    return en_rx, en, zh_rx, zh


def named_countries(text: str, home: str = "US") -> list[str]:
    """ISO alpha-2 codes of the countries the text names (a state or province counts as its
    country), in order of mention."""
    en_rx, en, zh_rx, zh = _lexicon(home)
    plain = _plain(text)
    found = [en[m.group(1)] for m in en_rx.finditer(plain)] + [zh[m.group(0)] for m in zh_rx.finditer(text)]
    return list(dict.fromkeys(found))


def abroad(text: str, home: str = "US") -> bool:
    """The text asks about a place outside the shop's country (or says abroad/overseas/国外)."""
    if _ABROAD.search(text):
        return True
    return any(code != home.upper() for code in named_countries(text, home))
