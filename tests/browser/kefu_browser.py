"""Helpers shared by the browser tests and the screenshot script: the widget sits in an open
shadow root under #kefu-widget, which Playwright's CSS selectors pierce."""

from __future__ import annotations

import os
import re
from typing import Any

from playwright.sync_api import expect

CHROMIUM = os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]

# The widget lives in an open shadow root under #kefu-widget; Playwright's CSS pierces it.
W = "#kefu-widget"

# Re-chunk the real server's SSE bytes into small, delayed pieces, as a slow mobile network
# would deliver them: exercises the widget's parser on arbitrary chunk boundaries (even inside
# "\r\n" or a UTF-8 sequence) and makes progressive rendering observable.
SLOW_SSE = """
(() => {
  const real = window.fetch.bind(window);
  window.__sse = [];
  window.fetch = async (url, opts) => {
    const r = await real(url, opts);
    const accept = opts && opts.headers && opts.headers.Accept;
    if (!/\\/messages$/.test(String(url)) || accept !== "text/event-stream" || !r.ok) return r;
    const bytes = new Uint8Array(await r.arrayBuffer());
    window.__sse.push({ type: r.headers.get("content-type"), body: new TextDecoder().decode(bytes) });
    const body = new ReadableStream({
      async start(c) {
        for (let i = 0; i < bytes.length; i += 7) {
          c.enqueue(bytes.slice(i, i + 7));
          await new Promise((res) => setTimeout(res, 8));
        }
        c.close();
      },
    });
    return new Response(body, { status: r.status, headers: r.headers });
  };
})();
"""

WATCH_LOG = """
() => {
  const log = document.querySelector("#kefu-widget").shadowRoot.querySelector(".log");
  window.__texts = []; window.__typing = false;
  const before = log.querySelectorAll(".m.bot .b").length;  // the welcome line
  new MutationObserver(() => {
    if (log.querySelector(".typing-row")) window.__typing = true;
    const b = [...log.querySelectorAll(".m.bot:not(.typing-row) .b")].slice(before).pop();
    const t = b ? b.textContent : "";
    if (t && window.__texts[window.__texts.length - 1] !== t) window.__texts.push(t);
  }).observe(log, { subtree: true, childList: true, characterData: true });
}
"""


def open_widget(page: Any) -> None:
    page.locator(f"{W} .launch").click()
    expect(page.locator(f"{W} .panel")).to_be_visible()


def say(page: Any, text: str) -> None:
    page.locator(f"{W} textarea").fill(text)
    page.locator(f"{W} textarea").press("Enter")


def bot_replies(page: Any) -> Any:
    # The first bot bubble is the local welcome line.
    return page.locator(f"{W} .log > .m.bot:not(.typing-row)")


def wait_idle(page: Any, n_bot: int) -> None:
    """Until the n-th bot bubble (welcome included) is complete and no turn is in flight."""
    expect(bot_replies(page)).to_have_count(n_bot)
    expect(page.locator(f"{W} .typing-row")).to_have_count(0)
    expect(page.locator(f"{W} .log")).not_to_have_attribute("aria-busy", "true")


def first_turn(page: Any, url: str, text: str) -> str:
    """Open the shop, open the widget, send one message, wait for the reply; the conversation id."""
    page.goto(url + "/")
    open_widget(page)
    say(page, text)
    wait_idle(page, 2)
    return page.evaluate("window.kefu.conversationId")


def sign_in(page: Any, stack: Any) -> None:
    """Open the dashboard and sign in with the stack's agent key; waits for the live stream."""
    page.goto(stack.url + "/agent")
    page.fill("#key", stack.agent_key)
    page.click("#login-form button[type=submit]")
    expect(page.locator("#app")).to_be_visible()
    expect(page.locator("#live")).to_have_class(re.compile(r"\bon\b"))
