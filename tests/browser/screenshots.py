"""Take the README screenshots (docs/screenshots/{shop,widget,dashboard}.png) against a real stack.

Not a test. Either point it at a running stack:
    .venv/bin/python tests/browser/screenshots.py --url http://127.0.0.1:8000 --agent-key KEY
or let it start `kefu up --no-build` on free ports over a copy of a built data dir
(`kefu build --quick` output; default: the test cache .kefu-test/built-*):
    .venv/bin/python tests/browser/screenshots.py [--data-dir DIR]
Conversations are seeded through the public API and the widget itself, so every pixel is what
the product shows for real data.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from kefu_browser import CHROMIUM, CHROMIUM_ARGS, W, open_widget, say, sign_in, wait_idle  # noqa: E402


def load(name: str, path: Path) -> Any:
    """tests/conftest.py under its own name (tests/browser has a conftest.py too)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


OUT = ROOT / "docs" / "screenshots"


class Conversation:
    """A shopper talking through the public API (the same calls the widget makes)."""

    def __init__(self, base: str, lang: str = "en") -> None:
        self.base = base
        r = httpx.post(base + "/v1/conversations", json={"lang": lang}, timeout=10)
        r.raise_for_status()
        self.id, self.token = r.json()["conversation_id"], r.json()["token"]

    def say(self, text: str) -> dict[str, Any]:
        r = httpx.post(f"{self.base}/v1/conversations/{self.id}/messages", json={"text": text},
                       headers={"Authorization": "Bearer " + self.token}, timeout=30)
        r.raise_for_status()
        return r.json()

    def handoff(self) -> None:
        httpx.post(f"{self.base}/v1/conversations/{self.id}/handoff", json={"reason": "requested"},
                   headers={"Authorization": "Bearer " + self.token}, timeout=10).raise_for_status()


def agent_call(base: str, key: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    r = httpx.request(method, base + path, json=body, headers={"Authorization": "Bearer " + key}, timeout=30)
    r.raise_for_status()
    return r.json()


def orders_by_status() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (ROOT / "kefu" / "data" / "orders.jsonl").read_text().splitlines():
        o = json.loads(line)
        out.setdefault(o["status"], o["id"])
    return out


def seed(base: str, key: str) -> None:
    """Background traffic so the dashboard looks like a working day."""
    orders = orders_by_status()
    a = Conversation(base)
    a.say(f"Can I cancel order {orders.get('delivered', 'KF100002')}?")
    b = Conversation(base, "zh")
    b.say(f"我的订单 {orders.get('shipped', 'KF100001')} 到哪了？")
    c = Conversation(base)
    c.say("Do you ship to Canada?")
    c.say("I'd like to talk to a real person please")
    c.handoff()
    d = Conversation(base)
    d.say("My package arrived damaged and I want a refund")
    agent_call(base, key, "POST", f"/v1/agent/conversations/{d.id}/takeover", {})
    agent_call(base, key, "POST", f"/v1/agent/conversations/{d.id}/messages",
               {"text": "I'm so sorry about that. Could you send a photo of the damage? "
                        "I'll start the refund right away."})
    e = Conversation(base)
    e.say("hello")
    e.say("What is your return policy?")


def shoot(base: str, key: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    seed(base, key)
    orders = orders_by_status()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        # 1. The shop, as a visitor first sees it.
        ctx = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
        page = ctx.new_page()
        page.goto(base + "/")
        page.locator("#grid .card").first.wait_for()
        page.locator("#cats button").nth(1).wait_for()
        page.evaluate("window.scrollTo(0, 0)")
        time.sleep(0.5)
        page.screenshot(path=str(OUT / "shop.png"))

        # 2. The widget mid-conversation: an order question, then a product search with cards.
        open_widget(page)
        say(page, f"Where is my order {orders.get('shipped', 'KF100001')}?")
        wait_idle(page, 2)
        say(page, "I'm looking for noise cancelling headphones under $200")
        wait_idle(page, 3)
        page.locator(f"{W} .card").first.wait_for()
        time.sleep(0.6)
        page.screenshot(path=str(OUT / "widget.png"))
        cid = page.evaluate("window.kefu.conversationId")
        page.locator(f"{W} .hu").click()  # talk to a human: joins the agents' queue
        time.sleep(0.5)

        # 3. The agent console on that conversation: queue first, evidence, drafted reply.
        agent = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()

        class S:
            url = base
            agent_key = key

        sign_in(agent, S)
        agent.locator(f'.conv[data-id="{cid}"]').click()
        agent.locator("#transcript .msg.bot").last.click()
        agent.locator("#evidence .prod").first.wait_for()
        agent.wait_for_function("document.getElementById('reply').value.length > 0", timeout=20_000)
        time.sleep(0.6)
        agent.screenshot(path=str(OUT / "dashboard.png"))
        browser.close()
    for name in ("shop", "widget", "dashboard"):
        print(OUT / f"{name}.png", (OUT / f"{name}.png").stat().st_size, "bytes")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running gateway (then --agent-key is required)")
    ap.add_argument("--agent-key")
    ap.add_argument("--data-dir", type=Path, help="a built data dir to copy and serve")
    args = ap.parse_args()
    if args.url:
        if not args.agent_key:
            ap.error("--agent-key is required with --url")
        shoot(args.url.rstrip("/"), args.agent_key)
        return 0

    shared = load("kefu_tests_conftest", ROOT / "tests" / "conftest.py")  # kefu up on free ports
    start_stack, stop_stack = shared.start_stack, shared.stop_stack

    src = args.data_dir or max((ROOT / ".kefu-test").glob("built-*"), key=lambda p: p.stat().st_mtime, default=None)
    if src is None:
        ap.error("no built data dir: pass --data-dir (after `kefu build --quick --data-dir DIR`)")
    with tempfile.TemporaryDirectory(prefix="kefu-shots-") as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(src, data, ignore=shutil.ignore_patterns("*.log", "logs", "redis*"))
        stack = start_stack(data, KEFU_LLM_URL="off", KEFU_RATE_LIMITS="off")
        try:
            shoot(stack.url, stack.agent_key)
        finally:
            stop_stack(stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
