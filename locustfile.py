"""Locust load test for the gateway: realistic shopper sessions (greeting, product search,
follow-up, order status, policy), half of them streaming, with think time between messages
(a shopper reads the reply and types the next one: KEFU_LOCUST_THINK_S, default 3-9 s), and
shoppers leaving and new ones arriving (a new conversation now and then). Reports req/s,
p50/p95/p99 per step and the time to first token of streamed turns (request type "TTFT").

    locust -f locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8000 Shopper

`EchoShopper` is the same-run baseline: the same users and think time against a trivial
FastAPI endpoint (POST /v1/echo), so figures from a shared machine can be read as ratios.
(bench/gateway/run_load.py starts a stack plus the baseline on free ports and runs both.)
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

ORDER_IDS = [f"KF{100001 + i}" for i in range(200)]
# Queries vary like real traffic (category x budget x wording, English and Chinese), so no
# cache anywhere sees the same few strings over and over.
_THINGS = ["running shoes", "rain jacket", "wireless headphones", "office chair", "frying pan", "backpack",
           "duvet", "desk lamp", "standing desk", "sofa", "jeans", "summer dress", "smartwatch", "laptop",
           "sneakers", "boots", "moisturizer", "t-shirt", "toy for a 5 year old", "phone"]
_ZH = ["跑步鞋", "冲锋衣", "无线耳机", "办公椅", "炒锅", "双肩包", "台灯", "沙发", "牛仔裤", "智能手表"]
SEARCHES = ([f"show me {t}" for t in _THINGS] + [f"{t} under {b}" for t in _THINGS for b in (50, 100, 300)]
            + [f"cheap {t} for women" for t in _THINGS[:10]] + [f"我想买{t}" for t in _ZH]
            + [f"{t}有没有便宜点的" for t in _ZH] + ["gift for my husband", "something for the kitchen"])
# The long tail: most real search strings are rare. A share of searches is drawn from ~4,000
# combinations (colour x thing x budget), so a query-embedding cache cannot serve them all.
_COLOURS = ["black", "white", "red", "blue", "green", "grey", "pink", "brown", "navy", "beige", "yellow",
            "purple", "orange", "silver", "gold", "cream", "olive", "teal", "khaki", "burgundy"]
TAIL_SHARE = float(os.environ.get("KEFU_LOCUST_TAIL_SHARE", "0.4"))


def search_text() -> str:
    if random.random() < TAIL_SHARE:
        return (f"{random.choice(_COLOURS)} {random.choice(_THINGS)} "
                f"under {random.choice((30, 40, 60, 80, 120, 150, 200, 250, 400, 500))}")
    return random.choice(SEARCHES)


FOLLOW_UPS = ["how much is the first one?", "is it in stock?", "any cheaper?", "第二个多少钱"]
GREETINGS = ["hi", "hello", "你好", "hey there"]
POLICY = ["how long does shipping take?", "what is your return policy?", "can I pay with paypal?"]
THINK = os.environ.get("KEFU_LOCUST_THINK_S", "3-9")
THINK_MIN, THINK_MAX = (float(x) for x in (THINK.split("-") if "-" in THINK else (THINK, THINK)))
NEW_SHOPPER = 0.2  # chance that the next session is a new shopper (new conversation)

# Whole-turn times (JSON: the answer; SSE: until `done`), written as JSON at exit to the file
# KEFU_LOCUST_TIMES_OUT names, so run_load.py can take exact percentiles over all turns.
TIMES: list[tuple[str, float, float | None]] = []  # (step, ms, ttft ms)


@events.quitting.add_listener
def _dump_times(environment, **_kw) -> None:
    out = os.environ.get("KEFU_LOCUST_TIMES_OUT")
    if out:
        with open(out, "w") as fh:
            json.dump(TIMES, fh)


def _lines(response) -> Iterator[str]:  # locust's FastResponse
    """SSE lines as soon as each arrives. FastHttpUser (geventhttpclient) costs far less client CPU
    than requests; its `iter_content` waits for whole chunks, so read line by line instead."""
    raw = response._response
    while True:
        line = raw.readline(b"\n")
        if not line:
            return
        yield line.rstrip(b"\r\n").decode("utf-8")


class Shopper(FastHttpUser):
    wait_time = between(THINK_MIN, THINK_MAX)

    def on_start(self) -> None:
        self.new_conversation()

    def new_conversation(self) -> None:
        r = self.client.post("/v1/conversations", json={}, name="POST /v1/conversations")
        body = r.json()
        self.cid = body["conversation_id"]
        self.auth = {"Authorization": f"Bearer {body['token']}"}
        self.stream = random.random() < 0.5

    def say(self, text: str, step: str) -> None:
        url = f"/v1/conversations/{self.cid}/messages"
        t0 = time.perf_counter()
        if not self.stream:
            with self.client.post(url, json={"text": text}, headers=self.auth, name=f"turn {step}",
                                  catch_response=True) as r:
                if r.status_code != 200 or "reply" not in r.json():
                    r.failure(f"bad turn: {r.status_code} {r.text[:200]}")
                else:
                    TIMES.append((step, (time.perf_counter() - t0) * 1000, None))
            return
        first = None
        ok = False
        with self.client.post(url, json={"text": text}, name=f"turn {step} (SSE)", stream=True,
                              headers={**self.auth, "Accept": "text/event-stream"}, catch_response=True) as r:
            event = None
            for line in _lines(r):
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    if event == "token" and first is None:
                        first = time.perf_counter()
                    if event == "done":
                        ok = "reply" in json.loads(line[5:])
                        break
            if not ok:
                r.failure("stream ended without done")
            else:
                TIMES.append((step + " (SSE)", (time.perf_counter() - t0) * 1000,
                              (first - t0) * 1000 if first else None))
        if first is not None:
            self.environment.events.request.fire(
                request_type="TTFT", name=f"first token {step}", response_time=(first - t0) * 1000,
                response_length=0, exception=None, context={})

    def session(self, turns: list[tuple[str, str]]) -> None:
        """Messages of one visit, each after the shopper read the previous reply and typed."""
        if random.random() < NEW_SHOPPER:
            self.new_conversation()
        for i, (text, step) in enumerate(turns):
            if i:
                self.wait()
            self.say(text, step)

    @task(3)
    def browse_and_ask(self) -> None:
        self.session([(random.choice(GREETINGS), "greeting"), (search_text(), "search"),
                      (random.choice(FOLLOW_UPS), "follow-up")])

    @task(2)
    def order_status(self) -> None:
        self.session([(f"where is my order {random.choice(ORDER_IDS)}?", "order")])

    @task(1)
    def policy(self) -> None:
        self.session([(random.choice(POLICY), "policy")])


class EchoShopper(FastHttpUser):
    """Baseline: same users and think time, one trivial JSON endpoint per message."""

    wait_time = between(THINK_MIN, THINK_MAX)

    @task
    def echo(self) -> None:
        t0 = time.perf_counter()
        r = self.client.post("/v1/echo", json={"text": random.choice(GREETINGS + SEARCHES)}, name="echo")
        if r.status_code == 200:
            TIMES.append(("echo", (time.perf_counter() - t0) * 1000, None))
