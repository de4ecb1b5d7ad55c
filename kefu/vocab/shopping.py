"""How shoppers word product constraints, English and Chinese: colours, sizes, materials, gender,
warmth, price bounds, stock, product types, and the moves of a refinement ("cheaper", "drop the
colour", "not leather"). Rule tables, not a model: a constraint read wrongly filters out the
right products, so a word is listed only when its meaning is unambiguous in a shop.

Values are the catalog's own (lower-case English), so a constraint is a filter on the catalog's
`attributes` as it stands; the Chinese words map onto the same values.
"""

from __future__ import annotations

import re
from typing import Any

# colour -> the words for it (Chinese first-listed is how a reply names it)
COLOURS: dict[str, tuple[str, ...]] = {
    "black": ("黑色", "黑"),
    "white": ("白色", "白"),
    "red": ("红色", "红"),
    "blue": ("蓝色", "蓝"),
    "navy": ("藏青色", "藏青", "海军蓝", "深蓝"),
    "grey": ("灰色", "灰"),
    "green": ("绿色", "绿"),
    "brown": ("棕色", "咖啡色", "棕"),
    "beige": ("米色", "米白", "卡其"),
    "pink": ("粉色", "粉红", "粉"),
    "olive": ("橄榄绿", "军绿"),
    "silver": ("银色", "银"),
    "yellow": ("黄色", "黄"),
    "purple": ("紫色", "紫"),
    "orange": ("橙色", "橙"),
    "gold": ("金色", "金"),
}
_COLOUR_EN = {"gray": "grey", "navy blue": "navy", "khaki": "beige", "cream": "beige"}

# a material word (as the catalog's material text contains it) -> Chinese words
MATERIALS: dict[str, tuple[str, ...]] = {
    "leather": ("真皮", "皮革", "皮质", "皮的", "皮"),
    "suede": ("翻毛皮", "麂皮"),
    "nubuck": ("磨砂皮",),
    "denim": ("牛仔布", "牛仔"),
    "cotton": ("纯棉", "棉质", "棉"),
    "linen": ("亚麻",),
    "fleece": ("抓绒", "摇粒绒"),
    "down": ("羽绒",),
    "nylon": ("尼龙",),
    "polyester": ("涤纶", "聚酯"),
    "mesh": ("网布", "网面"),
    "canvas": ("帆布",),
    "knit": ("针织",),
    "wool": ("羊毛",),
    "merino": ("美利奴",),
    "velvet": ("丝绒",),
    "softshell": ("软壳",),
    "aluminium": ("铝合金", "铝"),
    "steel": ("不锈钢", "钢"),
    "wood": ("木质", "实木", "木"),
    "oak": ("橡木",),
    "plastic": ("塑料",),
    "glass": ("玻璃",),
    "viscose": ("粘胶",),
}
_MATERIAL_EN = {"aluminum": "aluminium", "woolen": "wool", "wooden": "wood"}

GENDERS = {
    "women": ("女款", "女士", "女生", "女式", "女性", "女"),
    "men": ("男款", "男士", "男生", "男式", "男性", "男"),
}
_GENDER_EN = re.compile(
    r"\b(?:for\s+)?(women'?s?|womens|ladies|lady|female|girls?|for her|"
    r"men'?s?|mens|male|guys?|boys?|for him)\b",
    re.I,
)

# product-type words -> the catalog's own category word, which retrieval reads as its category
# filter. Only types a shop names with a plain noun; the head noun ends the phrase.
TYPES: dict[str, tuple[str, ...]] = {
    "jackets": (
        "jackets?",
        "coats?",
        "parkas?",
        "anoraks?",
        "windbreakers?",
        "puffers?",
        "外套",
        "夹克",
        "大衣",
        "羽绒服",
        "风衣",
        "冲锋衣",
    ),
    "running shoes": ("running shoes?", "runners", "trail shoes?", "racing flats?", "跑鞋", "跑步鞋"),
    "sneakers": ("sneakers?", "trainers?", "运动鞋", "休闲鞋", "板鞋"),
    "boots": ("boots?", "靴子", "靴"),
    "t-shirts": ("t-?shirts?", "tees?", "T恤", "t恤", "短袖"),
    "jeans": ("jeans", "牛仔裤"),
    "dresses": ("dress(?:es)?", "连衣裙", "裙子"),
    "backpacks": ("backpacks?", "rucksacks?", "双肩包", "背包"),
    "headphones": ("headphones?", "earbuds?", "headsets?", "earphones?", "耳机"),
    "smartphones": ("smartphones?", "phones?", "手机"),
    "laptops": ("laptops?", "notebooks?", "笔记本电脑", "笔记本", "电脑"),
    "smartwatches": ("smartwatch(?:es)?", "watch(?:es)?", "智能手表", "手表"),
    "chairs": ("chairs?", "椅子", "椅"),
    "lamps": ("lamps?", "台灯", "落地灯", "灯"),
    "desks": ("desks?", "书桌", "办公桌", "桌子"),
    "sofas": ("sofas?", "couch(?:es)?", "沙发"),
    "books": ("books?", "novels?", "图书", "书"),
    "cookware": ("cookware", "pans?", "pots?", "skillets?", "锅具", "锅"),
    "bedding": ("bedding", "sheets?", "duvets?", "pillowcases?", "床上用品", "床品", "床单", "被套", "被子"),
    "toys": ("toys?", "玩具"),
    "skincare": ("skincare", "skin care", "moisturi[sz]ers?", "serums?", "cleansers?", "护肤品", "面霜", "精华"),
    "kitchen appliances": (
        "kitchen appliances?",
        "blenders?",
        "kettles?",
        "toasters?",
        "coffee makers?",
        "厨房电器",
        "搅拌机",
        "电水壶",
        "烤面包机",
        "咖啡机",
    ),
}

_NUM = r"(\d+(?:\.\d+)?)"
_CUR = r"(?:\$|¥|￥|usd\s*|rmb\s*)?"
_UNIT = r"\s*(?:dollars?|bucks|usd|元|块钱?|美元)?"
PRICE_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bbetween\s+" + _CUR + _NUM + _UNIT + r"\s+(?:and|to)\s+" + _CUR + _NUM, re.I), "range"),
    (
        re.compile(_CUR + _NUM + r"\s*(?:-|–|~|到|至)\s*" + _CUR + _NUM + r"\s*(?:元|块|美元|dollars?|usd)", re.I),
        "range",
    ),
    (
        re.compile(
            r"\b(?:under|below|less than|cheaper than|up to|at most|no more than|max(?:imum)?|within|"
            r"budget(?: of| is)?)\s+" + _CUR + _NUM,
            re.I,
        ),
        "max",
    ),
    (re.compile(r"\b(?:nothing|not|no|none)\s+(?:over|above|more than|pricier than)\s+" + _CUR + _NUM, re.I), "max"),
    (re.compile(r"\b(?:over|above|more than|at least|pricier than)\s+" + _CUR + _NUM, re.I), "min"),
    (re.compile(r"(?:低于|少于|不超过|不到|小于|不高于|最多|预算)\s*" + _CUR + _NUM), "max"),
    (re.compile(_CUR + _NUM + r"\s*(?:元|块钱?|美元)?\s*(?:以下|以内|之内)"), "max"),
    (re.compile(r"(?:高于|超过|多于|大于|不低于|至少)\s*" + _CUR + _NUM), "min"),
    (re.compile(_CUR + _NUM + r"\s*(?:元|块钱?|美元)?\s*(?:以上|起)"), "min"),
]

STOCK = re.compile(r"\b(in[\s-]stock|available now|ready to ship|can ship today)\b|有货|现货|有库存", re.I)
WARM = re.compile(
    r"\b(warm(?:er|est)?|insulated|for winter|winter|cold weather|cosy|cozy)\b|保暖|暖和|厚一点|厚实|冬天|加厚", re.I
)
CHEAPER = re.compile(
    r"\b(cheaper|less expensive|more affordable|lower[- ]priced|budget option)\b|"
    r"便宜点|便宜一点|更便宜|便宜些|便宜的|再便宜|实惠一点|实惠点|更实惠",
    re.I,
)
PRICIER = re.compile(r"\b(more expensive|pricier|higher[- ]end|premium)\b|更贵|贵一点|高端一点|高档一点", re.I)
# "not leather", "no leather", "without denim", "不要皮的", "除了牛仔"
NEGATION_EN = re.compile(
    r"\b(?:not|no|non|without|anything but|other than|except)[\s-]+(?:made of\s+|in\s+)?([a-z]+)", re.I
)
NEGATION_ZH = re.compile(
    r"(?:不要|不是|别|除了|非)([\u4e00-\u9fff]{1,4}?)(?:的|材质|面料|做的)?(?:[，,。？?！!]|$|吧|呢)"
)
DROP_EN = re.compile(
    r"\b(?:drop|remove|forget|ignore|never ?mind|any)\s+(?:the\s+)?(colou?r|size|price|budget|"
    r"brand|material|gender)\b|\b(colou?r|size|price|brand|material)\s+doesn'?t matter\b",
    re.I,
)
DROP_ZH = re.compile(r"(颜色|尺码|价格|预算|品牌|材质)(?:不限|无所谓|都行|随便|不重要)|不限(颜色|尺码|价格|品牌|材质)")
_DROP_KEYS = {
    "colour": "color",
    "color": "color",
    "size": "size",
    "price": "price",
    "budget": "price",
    "brand": "brand",
    "material": "material",
    "gender": "gender",
    "颜色": "color",
    "尺码": "size",
    "价格": "price",
    "预算": "price",
    "品牌": "brand",
    "材质": "material",
}

_SIZE_CLOTH = r"(XXS|XS|S|M|L|XL|XXL|XXXL|2XL|3XL)"
SIZE_RULES = [
    re.compile(r"\bsize\s+(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl|xxxl|small|medium|large|twin|full|queen|king)\b", re.I),
    re.compile(r"\b(?:in|an?|come in|comes in)\s+" + _SIZE_CLOTH + r"\b"),
    re.compile(r"(?<![A-Za-z])" + _SIZE_CLOTH + r"(?:码|号)?(?![A-Za-z])"),
    re.compile(r"\b(twin|full|queen|king)[\s-]size\b", re.I),
    re.compile(r"(\d{1,2}(?:\.5)?)\s*(?:码|号)"),
]
_SIZE_WORDS = {"small": "S", "medium": "M", "large": "L", "大号": "L", "中号": "M", "小号": "S"}


def _alts(words: tuple[str, ...]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_COLOUR_ZH_RE = re.compile("(" + _alts(tuple(w for ws in COLOURS.values() for w in ws)) + ")")
_COLOUR_ZH_OF = {w: c for c, ws in COLOURS.items() for w in ws}
_COLOUR_EN_RE = re.compile(r"\b(" + _alts(tuple(COLOURS) + tuple(_COLOUR_EN)) + r")\b", re.I)
_MATERIAL_EN_RE = re.compile(
    r"\b(" + _alts(tuple(m for m in MATERIALS if m != "down") + tuple(_MATERIAL_EN)) + r")\b", re.I
)
_MATERIAL_ZH_OF = {w: m for m, ws in MATERIALS.items() for w in ws}
_MATERIAL_ZH_RE = re.compile("(" + _alts(tuple(_MATERIAL_ZH_OF)) + ")")
_TYPE_RES = [(cat, re.compile(r"(?<![A-Za-z])(?:" + _alts(ws) + r")(?![A-Za-z])", re.I)) for cat, ws in TYPES.items()]


def _named(text: str, en: re.Pattern[str], en_of: dict[str, str], zh: re.Pattern[str],
           zh_of: dict[str, str]) -> str | None:
    """The catalog's (English) value a message names, by its English or its Chinese word."""
    m = en.search(text)
    if m:
        w = m.group(1).lower()
        return en_of.get(w, w)
    z = zh.search(text)
    return zh_of[z.group(1)] if z else None


def colour_of(text: str) -> str | None:
    return _named(text, _COLOUR_EN_RE, _COLOUR_EN, _COLOUR_ZH_RE, _COLOUR_ZH_OF)


def colour_name(colour: str, lang: str) -> str:
    return COLOURS.get(colour, (colour,))[0] if lang == "zh" else colour


def material_name(material: str, lang: str) -> str:
    """A catalog material in the shopper's language ("leather" → 真皮 in Chinese)."""
    return MATERIALS.get(material, (material,))[0] if lang == "zh" else material


def material_of(text: str) -> str | None:
    return _named(text, _MATERIAL_EN_RE, _MATERIAL_EN, _MATERIAL_ZH_RE, _MATERIAL_ZH_OF)


def size_of(text: str) -> str | None:
    for w, s in _SIZE_WORDS.items():
        if w in text and not w.isascii():
            return s
    for pat in SIZE_RULES:
        m = pat.search(text)
        if m:
            v = m.group(1)
            return _SIZE_WORDS.get(v.lower(), v.upper() if v.isalpha() and len(v) <= 4 else v.capitalize())
    return None


def gender_of(text: str) -> str | None:
    m = _GENDER_EN.search(text)
    if m:
        w = m.group(1).lower()
        return "women" if w.startswith(("wom", "lad", "fem", "girl")) or w == "for her" else "men"
    for g, words in GENDERS.items():
        if any(w in text for w in words):
            return g
    return None


def type_of(text: str) -> str | None:
    """The catalog category a product-type word names (the longest match wins)."""
    best: tuple[int, str] | None = None
    for cat, pat in _TYPE_RES:
        for m in pat.finditer(text):
            if best is None or len(m.group(0)) > best[0]:
                best = (len(m.group(0)), cat)
    return best[1] if best else None


def price_bounds(text: str) -> dict[str, float]:
    """Price limits in the text. Where two rules match overlapping words the longer match wins:
    "不超过60元" is a cap, not also a floor from the "超过60" inside it; "nothing over $80" a cap."""
    found = [(m, kind) for pat, kind in PRICE_RULES for m in pat.finditer(text)]
    found.sort(key=lambda f: f[0].end() - f[0].start(), reverse=True)
    taken: list[tuple[int, int]] = []
    out: dict[str, float] = {}
    for m, kind in found:
        if any(m.start() < e and s < m.end() for s, e in taken):
            continue
        taken.append((m.start(), m.end()))
        if kind == "range":
            lo, hi = sorted((float(m.group(1)), float(m.group(2))))
            out.setdefault("price_min", lo)
            out.setdefault("price_max", hi)
        elif kind == "max":
            out.setdefault("price_max", float(m.group(1)))
        else:
            out.setdefault("price_min", float(m.group(1)))
    return out


def excluded_material(text: str) -> str | None:
    for m in NEGATION_EN.finditer(text):
        mat = material_of(m.group(1))
        if mat:
            return mat
    for m in NEGATION_ZH.finditer(text):
        mat = material_of(m.group(1))
        if mat:
            return mat
    return None


def dropped(text: str) -> list[str]:
    out = []
    for m in (*DROP_EN.finditer(text), *DROP_ZH.finditer(text)):
        word = (m.group(1) or m.group(2) or "").lower()
        if word in _DROP_KEYS:
            out.append(_DROP_KEYS[word])
    return out


def _without_types(text: str) -> str:
    for _, pat in _TYPE_RES:
        text = pat.sub(" ", text)
    return text


def constraints(text: str) -> dict[str, Any]:
    """Every constraint the words state by themselves (no context)."""
    out: dict[str, Any] = {}
    neg = excluded_material(text)
    if neg:
        out["material_not"] = neg
    scrub = NEGATION_EN.sub(" ", NEGATION_ZH.sub(" ", text)) if neg else text
    for key, fn in (
        ("color", colour_of),
        ("size", size_of),
        ("gender", gender_of),
        ("category", type_of),
    ):
        v = fn(scrub) or (fn(text) if key == "category" else None)  # "不要皮的靴子": still boots
        if v:
            out[key] = v
    # A category's own name is no material: 牛仔裤 (jeans) holds 牛仔 (denim), 牛仔外套 still says it.
    mat = material_of(_without_types(scrub))
    if mat:
        out["material"] = mat
    out.update(price_bounds(text))
    if STOCK.search(text):
        out["in_stock"] = True
    if WARM.search(text):
        out["warm"] = True
    return out
