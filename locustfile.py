"""Locust load test for the gateway: realistic shopper sessions (greeting, product search,
follow-up, order status), half of them streaming. Reports req/s, p50/p95/p99 per step and the
time to first token of streamed turns (custom request type "TTFT").

    locust -f locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8000
(bench/gateway/run_load.py starts a stack on free ports and runs this for you.)
"""

from __future__ import annotations

import json
import os
import random
import time

from locust import HttpUser, between, task

ORDER_IDS = [f"KF{100001 + i}" for i in range(200)]
SEARCHES = ["show me running shoes under 100", "a rain jacket for women", "wireless headphones",
            "office chair under 300", "我想买跑步鞋", "cheap frying pan", "gift for my husband"]
FOLLOW_UPS = ["how much is the first one?", "is it in stock?", "any cheaper?", "第二个多少钱"]
GREETINGS = ["hi", "hello", "你好", "hey there"]
POLICY = ["how long does shipping take?", "what is your return policy?", "can I pay with paypal?"]
WAIT = float(os.environ.get("KEFU_LOCUST_WAIT_S", "0.5"))


class Shopper(HttpUser):
    wait_time = between(WAIT * 0.5, WAIT * 1.5)

    def on_start(self) -> None:
        r = self.client.post("/v1/conversations", json={}, name="POST /v1/conversations")
        body = r.json()
        self.cid = body["conversation_id"]
        self.auth = {"Authorization": f"Bearer {body['token']}"}
        self.stream = random.random() < 0.5

    def say(self, text: str, step: str) -> None:
        url = f"/v1/conversations/{self.cid}/messages"
        if not self.stream:
            with self.client.post(url, json={"text": text}, headers=self.auth, name=f"turn {step}",
                                  catch_response=True) as r:
                if r.status_code != 200 or "reply" not in r.json():
                    r.failure(f"bad turn: {r.status_code} {r.text[:200]}")
            return
        t0 = time.perf_counter()
        first = None
        ok = False
        with self.client.post(url, json={"text": text}, name=f"turn {step} (SSE)", stream=True,
                              headers={**self.auth, "Accept": "text/event-stream"}, catch_response=True) as r:
            event = None
            for line in r.iter_lines(decode_unicode=True):
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
        if first is not None:
            self.environment.events.request.fire(
                request_type="TTFT", name=f"first token {step}", response_time=(first - t0) * 1000,
                response_length=0, exception=None, context={})

    @task(3)
    def browse_and_ask(self) -> None:
        self.say(random.choice(GREETINGS), "greeting")
        self.say(random.choice(SEARCHES), "search")
        self.say(random.choice(FOLLOW_UPS), "follow-up")

    @task(2)
    def order_status(self) -> None:
        self.say(f"where is my order {random.choice(ORDER_IDS)}?", "order")

    @task(1)
    def policy(self) -> None:
        self.say(random.choice(POLICY), "policy")
