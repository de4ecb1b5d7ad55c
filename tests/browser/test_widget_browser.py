"""The chat widget and demo shop in a real browser against the real stack (`kefu up`)."""

from __future__ import annotations

import http.server
import json
import re
import threading
from typing import Any

import pytest
from kefu_browser import SLOW_SSE, WATCH_LOG, W, bot_replies, first_turn, open_widget, say, wait_idle
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_shop_grid_from_catalog(ui_stack: Any, new_page: Any) -> None:
    page = new_page()
    page.goto(ui_stack.url + "/")
    cards = page.locator("#grid .card")
    expect(cards.first).to_be_visible()
    total = int(re.search(r"of (\d+)", page.locator("#count").inner_text()).group(1))
    assert cards.count() == min(24, total) and total > 24
    first = cards.first
    assert re.search(r"\d", first.locator(".price").inner_text())
    assert re.fullmatch(r"In stock|Sold out|Only \d+ left", first.locator(".tag").inner_text())
    # Category filter asks the server for that category only.
    cat_button = page.locator("#cats button").nth(1)
    category = cat_button.get_attribute("data-category")
    label = cat_button.inner_text()
    assert category and label.lower() == category.lower()
    with page.expect_response(lambda r: "/v1/shop/products" in r.url and "category=" in r.url) as resp:
        cat_button.click()
    products = resp.value.json()["products"]
    assert products and all(p["category"] == category for p in products)
    expect(cards).to_have_count(min(24, resp.value.json()["total"]))
    expect(page.locator("#grid-title")).to_have_text(label)
    assert page.errors == []


def test_shopper_conversation_streams_with_product_card(ui_stack: Any, new_page: Any,
                                                        catalog_product: dict[str, Any]) -> None:
    page = new_page()
    page.add_init_script(SLOW_SSE)
    page.goto(ui_stack.url + "/")
    open_widget(page)
    expect(page.locator(f"{W} .chip")).to_have_count(4)
    page.evaluate(WATCH_LOG)
    say(page, f"I'm looking for {catalog_product['title']}")
    expect(page.locator(f"{W} .m.user .b").last).to_have_text(f"I'm looking for {catalog_product['title']}")
    wait_idle(page, 2)

    sse = page.evaluate("window.__sse")
    assert len(sse) == 1 and sse[0]["type"].startswith("text/event-stream")
    events = re.findall(r"^event: (\w+)$", sse[0]["body"], re.M)
    assert events[0] == "intent" and events[-1] == "done" and events.count("token") >= 2, events
    done = json.loads(sse[0]["body"].rsplit("event: done", 1)[1].split("data: ", 1)[1].strip())

    reply = bot_replies(page).last
    expect(reply.locator(".b")).to_have_text(done["reply"]["text"])
    texts = page.evaluate("window.__texts")
    assert page.evaluate("window.__typing"), "no typing indicator before the first token"
    # Progressive rendering: several growing prefixes of the final reply were on screen.
    partial = [t for t in texts if t != done["reply"]["text"]]
    assert len(partial) >= 2 and all(done["reply"]["text"].startswith(t) for t in partial), texts

    # Product cards: title, price, a link; the asked-for product among them.
    assert done["products"], done
    cards = reply.locator(".card")
    expect(cards.first).to_be_visible()
    assert cards.count() == min(6, len(done["products"]))
    titles = [c.locator(".pt").inner_text() for c in cards.all()]
    assert catalog_product["title"] in titles, titles
    card = cards.nth(titles.index(catalog_product["title"]))
    assert re.search(r"\d+\.\d\d", card.locator(".pp").inner_text())
    href = card.get_attribute("href")
    assert href and href.startswith(("http://", "https://"))
    assert page.errors == []


def test_reload_keeps_the_conversation(ui_stack: Any, new_page: Any) -> None:
    page = new_page()
    cid = first_turn(page, ui_stack.url, "What is your return policy?")
    reply = bot_replies(page).last.locator(".b").inner_text()
    assert cid and reply

    page.reload()
    # Same conversation (token in localStorage), panel still open, history rendered from the API.
    expect(page.locator(f"{W} .panel")).to_be_visible()
    expect(page.locator(f"{W} .m.user .b")).to_have_text(["What is your return policy?"])
    expect(bot_replies(page).last.locator(".b")).to_have_text(reply)
    assert page.evaluate("window.kefu.conversationId") == cid
    # And the conversation continues where it was.
    say(page, "How long does shipping take?")
    wait_idle(page, 3)
    assert page.evaluate("window.kefu.conversationId") == cid
    assert page.errors == []


def test_markup_in_messages_renders_as_text(ui_stack: Any, new_page: Any) -> None:
    page = new_page()
    page.goto(ui_stack.url + "/")
    open_widget(page)
    payload = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b>bold</b>'
    say(page, payload)
    wait_idle(page, 2)
    expect(page.locator(f"{W} .m.user .b")).to_have_text(payload)
    assert page.locator(f"{W} .log img, {W} .log script, {W} .log b").count() == 0
    page.reload()  # history comes back from the server: still text
    expect(page.locator(f"{W} .m.user .b")).to_have_text(payload)
    assert page.locator(f"{W} .log img, {W} .log script, {W} .log b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []


def test_keyboard_and_aria(ui_stack: Any, new_page: Any) -> None:
    page = new_page()
    page.goto(ui_stack.url + "/")
    launch = page.locator(f"{W} .launch")
    expect(launch).to_have_attribute("aria-expanded", "false")
    launch.focus()
    page.keyboard.press("Enter")
    panel = page.locator(f"{W} [role=dialog]")
    expect(panel).to_be_visible()
    expect(launch).to_have_attribute("aria-expanded", "true")
    assert page.evaluate("document.querySelector('#kefu-widget').shadowRoot.activeElement.tagName") == "TEXTAREA"
    expect(page.locator(f"{W} [role=log]")).to_have_attribute("aria-live", "polite")
    labelled = page.evaluate("""() => [...document.querySelector('#kefu-widget').shadowRoot
        .querySelectorAll('button')].filter(b => !b.hidden && !b.closest('[hidden]'))
        .map(b => (b.getAttribute('aria-label') || b.textContent).trim())""")
    assert labelled and all(labelled), labelled
    page.keyboard.type("hello")
    page.keyboard.press("Enter")  # Enter sends
    expect(page.locator(f"{W} .m.user .b")).to_have_text(["hello"])
    wait_idle(page, 2)
    page.keyboard.press("Escape")  # Esc closes and gives focus back to the launcher
    expect(panel).to_be_hidden()
    assert page.evaluate("document.querySelector('#kefu-widget').shadowRoot.activeElement.className") == "launch"
    assert page.errors == []


def test_resends_after_network_loss(ui_stack: Any, new_page: Any) -> None:
    page = new_page()
    first_turn(page, ui_stack.url, "hi")
    page.context.set_offline(True)
    say(page, "Where is my order?")
    failed = page.locator(f"{W} .m.user.failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".rt")).to_be_visible()  # a Retry button, and automatic retry later
    page.context.set_offline(False)
    expect(failed).to_have_count(0, timeout=20_000)
    wait_idle(page, 3)
    expect(page.locator(f"{W} .m.user .b")).to_have_text(["hi", "Where is my order?"])
    # The server recorded the resent message once.
    page.reload()
    expect(page.locator(f"{W} .m.user .b")).to_have_text(["hi", "Where is my order?"])
    assert page.errors == []


def test_chinese_ui(ui_stack: Any, new_page: Any) -> None:
    page = new_page(locale="zh-CN")
    page.goto(ui_stack.url + "/?lang=zh")
    expect(page.locator("#hero-title")).to_have_text("好物日常，用心之选。")
    open_widget(page)
    expect(page.locator(f"{W} .chip").first).to_have_text("查询我的订单")
    expect(page.locator(f"{W} textarea")).to_have_attribute("placeholder", "请输入消息…")
    say(page, "你们的退货政策是什么？")
    wait_idle(page, 2)
    assert re.search(r"[\u4e00-\u9fff]", bot_replies(page).last.locator(".b").inner_text())
    assert page.errors == []


def test_one_script_tag_on_another_sites_page(ui_stack: Any, new_page: Any) -> None:
    """Embedded on a foreign origin with data-lang: the widget calls its own gateway (CORS)."""
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Other shop</title></head>'
            f'<body><h1>Someone else\'s shop</h1><script src="{ui_stack.url}/widget.js" data-lang="zh" '
            f'data-title="小店客服" async></script></body></html>').encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = new_page()
        # "localhost" vs the stack's "127.0.0.1": a different origin, same loopback address space.
        page.goto(f"http://localhost:{server.server_address[1]}/")
        open_widget(page)
        expect(page.locator(f"{W} h2")).to_have_text("小店客服")
        expect(page.locator(f"{W} .chip").first).to_have_text("查询我的订单")
        say(page, "你好")
        wait_idle(page, 2)
        assert bot_replies(page).last.locator(".b").inner_text().strip()
        assert page.evaluate("Object.keys(localStorage).some(k => k.startsWith('kefu:conv:'))")
        assert page.errors == []
    finally:
        server.shutdown()
