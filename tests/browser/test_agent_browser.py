"""The agent-assist dashboard in a real browser, next to a shopper's widget, on the real stack."""

from __future__ import annotations

import re
from typing import Any

import pytest
from kefu_browser import W, bot_replies, first_turn, say, sign_in, wait_idle
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_wrong_key_is_refused(ui_stack: Any, new_page: Any) -> None:
    page = new_page()
    page.goto(ui_stack.url + "/agent")
    page.fill("#key", "not-a-key")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("That key was not accepted.")
    expect(page.locator("#app")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('kefu:agent-key')") is None


def test_agent_takes_over_and_the_reply_reaches_the_widget_live(ui_stack: Any, new_page: Any) -> None:
    agent = new_page(viewport=(1440, 900))
    sign_in(agent, ui_stack)

    shopper = new_page()
    cid = first_turn(shopper, ui_stack.url, "I'm looking for running shoes")
    shopper.locator(f"{W} .hu").click()  # "Talk to a human"
    expect(shopper.locator(f"{W} .note")).to_contain_text("Waiting for a member of our team")

    # The conversation shows up in the dashboard without a reload, in the handoff queue,
    # and the queue is listed first.
    item = agent.locator(f'.conv[data-id="{cid}"]')
    expect(item).to_have_class(re.compile(r"\bpending\b"))
    classes = [c or "" for c in agent.locator(".conv").evaluate_all("els => els.map(e => e.className)")]
    pending = [("pending" in c.split()) for c in classes]
    assert pending == sorted(pending, reverse=True), classes

    item.click()
    expect(agent.locator("#transcript .msg.user .text").first).to_have_text("I'm looking for running shoes")
    # Evidence for the bot's turn: intent, confidence/stage line, products with scores.
    expect(agent.locator("#evidence .intent-name")).to_have_text(re.compile(r"^[a-z_]+$"))
    expect(agent.locator("#evidence .meter-row")).to_contain_text("stage:")
    expect(agent.locator("#evidence .prod").first).to_be_visible()
    expect(agent.locator("#evidence .score").first).to_contain_text(re.compile(r"\d\.\d{3}"))
    # A queued conversation gets a drafted reply in the composer, ready to edit.
    expect(agent.locator("#reply")).not_to_have_value("", timeout=20_000)
    expect(agent.locator("#draft-note")).to_be_visible()
    # Canned responses insert their text.
    agent.fill("#reply", "")
    agent.select_option("#canned", index=1)
    assert len(agent.input_value("#reply")) > 10

    agent.click("#takeover")
    expect(agent.locator("#chat-status")).to_have_text("Agent")
    expect(shopper.locator(f"{W} .note")).to_have_text("You're chatting with a member of our team.")

    text = "Hi, I'm Mia from the shop team. <b>Let me check</b> that for you."
    agent.fill("#reply", text)
    agent.press("#reply", "Enter")
    expect(shopper.locator(f"{W} .m.agent .b")).to_have_text(text)  # live, no reload
    expect(agent.locator("#transcript .msg.agent .text").last).to_have_text(text)
    assert shopper.locator(f"{W} .log b").count() == 0 and agent.locator("#transcript b").count() == 0

    # While the agent holds the conversation the bot stays silent; the agent sees the shopper live.
    n = bot_replies(shopper).count()
    say(shopper, "Thanks, it is order KF100001")
    expect(agent.locator("#transcript .msg.user .text").last).to_have_text("Thanks, it is order KF100001")
    expect(shopper.locator(f"{W} .typing-row")).to_have_count(0)
    shopper.wait_for_timeout(800)
    assert bot_replies(shopper).count() == n

    # Release: the bot answers again.
    agent.click("#release")
    expect(agent.locator("#chat-status")).to_have_text("Bot")
    expect(shopper.locator(f"{W} .sys").last).to_have_text("You're back with the assistant.")
    say(shopper, "What is your return policy?")
    wait_idle(shopper, n + 1)
    assert agent.errors == [] and shopper.errors == []


def test_new_messages_appear_in_the_list_live(ui_stack: Any, new_page: Any) -> None:
    agent = new_page(viewport=(1440, 900))
    sign_in(agent, ui_stack)
    shopper = new_page()
    cid = first_turn(shopper, ui_stack.url, "hello there")
    item = agent.locator(f'.conv[data-id="{cid}"]')
    expect(item).to_be_visible()
    say(shopper, "Where is my order?")
    expect(item.locator(".conv-preview")).to_contain_text(re.compile(r"order", re.I))
    expect(item).to_have_class(re.compile(r"\bunread\b"))
    assert agent.errors == []
