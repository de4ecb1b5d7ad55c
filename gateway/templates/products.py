"""Answers about catalog products: a search's results, one product's price or stock."""

from __future__ import annotations

from gateway.templates.words import money, say, title
from kefu.contracts import ReplyContext
from kefu.vocab import Intent

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
