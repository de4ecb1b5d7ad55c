"""Answers about catalog products: a search's results, one product's price or stock."""

from __future__ import annotations

from typing import Any

from gateway.templates.words import money, say, title
from kefu.contracts import ReplyContext
from kefu.vocab import Intent, is_zh
from kefu.vocab import shopping as vocab

SHOWN = 3
ONE_PRODUCT = (Intent.PRICE_QUESTION, Intent.STOCK_AVAILABILITY, Intent.PRODUCT_QUESTION)


def listing(ctx: ReplyContext, n: int = SHOWN) -> str:
    zh = ctx.lang == "zh"
    items = []
    for p in ctx.products[:n]:
        price = money(p.get("price"), p.get("currency", "USD")) if p.get("price") is not None else ""
        bits = title(p, ctx.lang) + (f" — {price}" if price else "")
        stock = p.get("stock")
        if stock is not None and int(stock) <= 0:
            bits += "（暂时缺货）" if zh else " (out of stock)"
        items.append(bits)
    return ("；" if zh else "; ").join(items)


def stock(p: dict, lang: str) -> str:
    n = int(p.get("stock") or 0)
    if lang == "zh":
        return title(p, "zh") + (f"有货（库存 {n} 件）。" if n > 0 else "目前缺货。")
    return f"{title(p, 'en')} is " + (f"in stock ({n} available)." if n > 0 else "out of stock.")


def reply(ctx: ReplyContext) -> str:
    lang = ctx.lang
    if not ctx.products and ctx.search_unavailable:  # an outage is not an empty result
        return say(lang, "Sorry, product search is briefly unavailable. Please try again in a moment.",
                   "抱歉，商品搜索暂时不可用，请稍后再试。")
    if ctx.shopping:
        return shopping(ctx)
    if not ctx.products:
        return say(lang, "Sorry, I couldn't find matching products. Could you describe it differently?",
                   "抱歉，没有找到符合条件的商品，换个说法试试？")
    if ctx.intent == Intent.STOCK_AVAILABILITY:
        return stock(ctx.products[0], lang)
    if ctx.intent in ONE_PRODUCT:
        one = listing(ctx, 1)
        return say(lang, f"{one}.", f"{one}。")
    lst = listing(ctx)
    return say(lang, f"Here are some products you may like: {lst}.", f"为您找到这些商品：{lst}。")


# ------------------------------------------------------------------ shopping turns

_FACET_EN = {"color": "colour", "size": "size", "material": "material", "material_not": "material",
             "gender": "gender", "brand": "brand", "price": "price limit", "in_stock": "in-stock filter"}
_FACET_ZH = {"color": "颜色", "size": "尺码", "material": "材质", "material_not": "材质", "gender": "男女款",
             "brand": "品牌", "price": "价格限制", "in_stock": "有货限制"}
_TYPE_ZH = {"jackets": "外套", "running shoes": "跑步鞋", "sneakers": "运动鞋", "boots": "靴子", "t-shirts": "T恤",
            "jeans": "牛仔裤", "dresses": "连衣裙", "backpacks": "双肩包", "headphones": "耳机", "smartphones": "手机",
            "laptops": "笔记本电脑", "smartwatches": "智能手表", "chairs": "椅子", "lamps": "灯", "desks": "书桌",
            "sofas": "沙发", "books": "书", "cookware": "锅具", "bedding": "床上用品", "toys": "玩具",
            "skincare": "护肤品", "kitchen appliances": "厨房电器"}


def describe(search: dict[str, Any], lang: str) -> str:
    """The active search in words: "black women's fleece jackets under $300, not leather"."""
    return _describe_zh(search) if lang == "zh" else _describe_en(search)


def _short_text(search: dict[str, Any], limit: int) -> str:
    """The search's own words as its name only when they are a name ("desk lamps", "耳机"): a
    whole message ("I bough memory foam mattress which pillow is comfortable for it") read back
    as "Here are I bough memory foam…" was the template's worst sentence on the dev set."""
    text = " ".join(str(search.get("text") or "").split()).strip(" ?？!！.。")
    size = len(text) if is_zh(text) else len(text.split())
    return text if text and size <= limit else ""


def _describe_zh(search: dict[str, Any]) -> str:
    bits = [f"${search['price_max']:g}以下" if search.get("price_max") is not None else "",
            f"${search['price_min']:g}以上" if search.get("price_min") is not None else "",
            vocab.colour_name(search["color"], "zh") if search.get("color") else "",
            {"women": "女款", "men": "男款"}.get(str(search.get("gender")), ""),
            f"{search['size']}码" if search.get("size") else "",
            vocab.material_name(str(search["material"]), "zh") if search.get("material") else "",
            "保暖" if search.get("warm") else ""]
    bits = [b for b in bits if b]
    cat = str(search.get("category") or "")
    noun = _TYPE_ZH.get(cat, cat or _short_text(search, 6) or "商品")
    out = "的".join(bits) + ("的" if bits else "") + noun
    if search.get("material_not"):
        out += f"（非{vocab.material_name(str(search['material_not']), 'zh')}）"
    return out + ("（有货）" if search.get("in_stock") else "")


def _describe_en(search: dict[str, Any]) -> str:
    cur = "$"
    words = [x for x in (search.get("color"), "warm" if search.get("warm") else None,
                         {"women": "women's", "men": "men's"}.get(str(search.get("gender"))), search.get("material"),
                         str(search.get("category") or _short_text(search, 3) or "products")) if x]
    out = " ".join(str(x) for x in words)
    if search.get("size"):
        out += f" in size {search['size']}"
    if search.get("price_min") is not None and search.get("price_max") is not None:
        out += f" between {cur}{search['price_min']:g} and {cur}{search['price_max']:g}"
    elif search.get("price_max") is not None:
        out += f" under {cur}{search['price_max']:g}"
    elif search.get("price_min") is not None:
        out += f" over {cur}{search['price_min']:g}"
    if search.get("material_not"):
        out += f", not {search['material_not']}"
    if search.get("in_stock"):
        out += ", in stock"
    return out


def _relax_line(r: dict[str, Any], lang: str) -> str:
    zh = lang == "zh"
    what = (_FACET_ZH if zh else _FACET_EN).get(r["drop"], r["drop"])
    vals = r.get("values") or []
    if vals and r["drop"] == "color":
        shown = ("、" if zh else ", ").join(
            f"{n} 款{vocab.colour_name(v, 'zh')}" if zh else f"{n} in {v}" for v, n in vals)
        return f"有 {shown}——要不要去掉颜色限制？" if zh else f"{shown} — or drop the colour?"
    if vals:
        name = vocab.material_name if r["drop"] in ("material", "material_not") else (lambda v, _lang: v)
        shown = ("、" if zh else ", ").join(f"{n} 款{name(v, 'zh')}" if zh else f"{n} in {v}" for v, n in vals)
        return f"有 {shown}——要不要去掉{what}？" if zh else f"{shown} — or drop the {what}?"
    return (f"去掉{what}的话有 {r['count']} 款，要看看吗？" if zh
            else f"without the {what} there are {r['count']} — shall I drop it?")


def no_match(ctx: ReplyContext) -> str:
    shop = ctx.shopping or {}
    if "off_topic" in shop:  # free text nothing in the catalog is about: we may not sell it
        return say(ctx.lang, "Sorry, I couldn't find anything like that in our catalog — we may not carry it. Could "
                             "you tell me a little more about what you're looking for?",
                   "抱歉，没有找到相关商品，我们可能没有销售这类商品。能再具体描述一下您想找的东西吗？")
    desc = describe(shop.get("search") or {}, ctx.lang)
    relax = shop.get("relax") or []
    if ctx.lang == "zh":
        head = f"抱歉，目前没有{desc}。"
        return head + (_relax_line(relax[0], "zh") if relax else "要不要换个条件试试？")
    head = f"Sorry, we have no {desc}."
    return head + (" " + _relax_line(relax[0], "en") if relax else " Would you like to change what you're looking for?")


def _sizes(p: dict[str, Any]) -> list[str]:
    s = (p.get("attributes") or {}).get("sizes")
    return [str(x) for x in s] if isinstance(s, list) else []


def _attr(p: dict[str, Any], key: str) -> str:
    v = (p.get("attributes") or {}).get(key)
    return str(v) if v else ""


def _size_answer(p: dict[str, Any], name: str, want: Any, zh: bool) -> str:
    sizes = _sizes(p)
    if not sizes:
        return f"{name}没有列出尺码。" if zh else f"The catalog lists no sizes for {name}."
    listed = ", ".join(sizes)
    if not want:
        return f"{name}的尺码：{listed}。" if zh else f"{name} comes in sizes {listed}."
    if any(s.upper() == str(want).upper() for s in sizes):
        return f"{name}有 {want} 码（尺码：{listed}）。" if zh else f"Yes — {name} comes in {want} (sizes: {listed})."
    return f"{name}没有 {want} 码（{listed}）。" if zh else f"No — {name} doesn't come in {want} (sizes: {listed})."


def _colour_answer(p: dict[str, Any], name: str, want: Any, zh: bool) -> str:
    colour = _attr(p, "color")
    if not colour:
        return f"{name}没有列出颜色。" if zh else f"The catalog lists no colour for {name}."
    said = (_attr(p, "color_zh") or colour) if zh else colour.lower()
    if not want:
        return f"{name}的颜色：{said}。" if zh else f"{name} comes in {said}."
    if colour.lower() == str(want).lower():
        return f"{name}是{said}的。" if zh else f"Yes — {name} is {said}."
    return (f"{name}只有{said}，没有{vocab.colour_name(str(want), 'zh')}。" if zh
            else f"No — {name} comes in {said} only, not {want}.")


def _other_answer(p: dict[str, Any], name: str, ask: str, lang: str) -> str:
    zh = lang == "zh"
    if ask == "stock":
        return stock(p, lang)
    if ask == "material":
        mat = (_attr(p, "material_zh") or _attr(p, "material")) if zh else _attr(p, "material")
        if not mat:
            return f"{name}没有列出材质。" if zh else f"The catalog lists no material for {name}."
        return f"{name}的材质是{mat}。" if zh else f"{name} is made of {mat}."
    if ask == "gender":
        g = _attr(p, "gender")
        if not g:
            return f"{name}没有区分男女款。" if zh else f"{name} is not listed as men's or women's."
        return f"{name}是{'女款' if g == 'women' else '男款'}。" if zh else f"{name} is a {g}'s model."
    price = money(p.get("price"), p.get("currency", "USD")) if p.get("price") is not None else ""
    if not price:
        return f"{name}暂无价格。" if zh else f"{name} has no price listed."
    return f"{name}的价格是 {price}。" if zh else f"{name} is {price}."


def answer_one(p: dict[str, Any], asks: list[str], value: dict[str, Any], lang: str) -> str:
    """One product's answers to the attributes asked, from its catalog fields only."""
    zh = lang == "zh"
    name = title(p, lang)
    out = [_size_answer(p, name, value.get("size"), zh) if ask == "size"
           else _colour_answer(p, name, value.get("color"), zh) if ask == "color"
           else _other_answer(p, name, ask, lang) for ask in asks]
    return "".join(out) if zh else " ".join(out)


def attribute(ctx: ReplyContext) -> str:
    shop = ctx.shopping or {}
    if not ctx.products:
        return say(ctx.lang, "Which product do you mean? Tell me its name, or search first and I'll show you some.",
                   "您指的是哪一款？告诉我商品名称，或者先搜一下，我给您列几款。")
    asks = list(shop.get("asks") or ["price"])
    return (" " if ctx.lang != "zh" else "").join(
        answer_one(p, asks, shop.get("value") or {}, ctx.lang) for p in ctx.products[:SHOWN])


def _facts_line(p: dict[str, Any], lang: str) -> str:
    zh = lang == "zh"
    bits = []
    if p.get("price") is not None:
        bits.append(money(p.get("price"), p.get("currency", "USD")))
    colour = (_attr(p, "color_zh") or _attr(p, "color")) if zh else _attr(p, "color").lower()
    if colour:
        bits.append(colour)
    mat = (_attr(p, "material_zh") or _attr(p, "material")) if zh else _attr(p, "material")
    if mat:
        bits.append(mat)
    g = _attr(p, "gender")
    if g:
        bits.append(("女款" if g == "women" else "男款") if zh else f"{g}'s")
    sizes = _sizes(p)
    if sizes:
        bits.append(f"尺码 {sizes[0]}–{sizes[-1]}" if zh else f"sizes {sizes[0]}–{sizes[-1]}")
    n = int(p.get("stock") or 0)
    bits.append((f"有货（{n} 件）" if n > 0 else "缺货") if zh else (f"in stock ({n})" if n > 0 else "out of stock"))
    feats = (p.get("attributes") or {}).get("features")
    if isinstance(feats, list) and feats and not zh:
        bits.append("with " + " and ".join(str(f) for f in feats[:2]))
    return f"{title(p, lang)}：" + "，".join(bits) if zh else f"{title(p, lang)}: " + ", ".join(bits)


def compare(ctx: ReplyContext) -> str:
    shop = ctx.shopping or {}
    missing = list(shop.get("missing") or [])
    zh = ctx.lang == "zh"
    miss = (("没有找到：" + "、".join(missing) + "。") if zh else ("I couldn't find " + " or ".join(
        f'"{m}"' for m in missing) + " in the catalog.")) if missing else ""
    if len(ctx.products) < 2:
        lines = [_facts_line(p, ctx.lang) for p in ctx.products]
        return (miss + ("；".join(lines) + "。" if lines else "") if zh else " ".join([miss, *lines]).strip())
    ps = ctx.products[:SHOWN]
    diff = []
    for key, en, zh_w in (("price", "price", "价格"), ("color", "colour", "颜色"), ("material", "material", "材质"),
                          ("gender", "fit (men's/women's)", "男女款"), ("sizes", "sizes", "尺码")):
        vals = [str(p.get(key)) if key == "price" else str((p.get("attributes") or {}).get(key)) for p in ps]
        if len(set(vals)) > 1:
            diff.append(zh_w if zh else en)
    lines = [_facts_line(p, ctx.lang) for p in ps]
    if zh:
        tail = ("主要区别在" + "、".join(diff) + "。") if diff else "这几款的主要参数相同。"
        return miss + "对比如下：" + "；".join(lines) + "。" + tail
    tail = ("They differ in " + ", ".join(diff) + ".") if diff else "Their listed details are the same."
    return (miss + " " if miss else "") + "Side by side — " + "; ".join(lines) + ". " + tail


def found(ctx: ReplyContext) -> str:
    desc = describe((ctx.shopping or {}).get("search") or {}, ctx.lang)
    lst = listing(ctx)
    if desc in ("products", "商品"):
        return say(ctx.lang, f"Here is what I found: {lst}.", f"为您找到这些商品：{lst}。")
    return say(ctx.lang, f"Here are {desc}: {lst}.", f"为您找到这些{desc}：{lst}。")


def shopping(ctx: ReplyContext) -> str:
    kind = (ctx.shopping or {}).get("kind")
    if kind == "attribute":
        return attribute(ctx)
    if kind == "compare":
        return compare(ctx)
    return found(ctx) if ctx.products else no_match(ctx)
