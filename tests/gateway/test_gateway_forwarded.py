"""Per-address rate limits behind a proxy: X-Forwarded-For counts only from trusted proxies."""

from __future__ import annotations

import uuid

import pytest

from gateway.config import GatewaySettings
from gateway.forwarded import client_address, parse_trusted

LB = parse_trusted("10.0.0.0/8, 127.0.0.1")


def test_header_ignored_without_trusted_proxies() -> None:
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"


def test_header_ignored_from_an_untrusted_peer() -> None:
    # a shopper talking to the gateway directly cannot pick the address its limit is keyed on
    assert client_address("203.0.113.9", "198.51.100.1", LB) == "203.0.113.9"


def test_rightmost_untrusted_hop_is_the_client() -> None:
    # the shopper forged the first entry; the ingress (10.1.2.3) appended what it saw
    assert client_address("10.0.0.5", "1.2.3.4, 198.51.100.7, 10.1.2.3", LB) == "198.51.100.7"
    assert client_address("127.0.0.1", "2001:db8::1", LB) == "2001:db8::1"


def test_garbage_hop_falls_back_to_the_peer() -> None:
    assert client_address("10.0.0.5", "not-an-ip", LB) == "10.0.0.5"
    assert client_address("10.0.0.5", "", LB) == "10.0.0.5"


def test_malformed_setting_fails_at_start() -> None:
    with pytest.raises(ValueError):
        GatewaySettings(trusted_proxies="10.0.0.0/33")


def test_gateway_limits_each_forwarded_client_separately(gateway_factory) -> None:
    """A real gateway behind a 'proxy' on 127.0.0.1: each shopper it forwards has a budget of
    their own (the third new conversation of one is refused, the other's first is not)."""
    gw = gateway_factory(KEFU_RATE_LIMITS="on", KEFU_RATE_LIMIT_NEW_CONV_PER_MIN="2",
                         KEFU_RATE_LIMIT_IP_PER_MIN="1000", KEFU_TRUSTED_PROXIES="127.0.0.1",
                         # its own prefix: counters of an earlier run within the minute must not leak in
                         KEFU_REDIS_PREFIX=f"gwt-xff-{uuid.uuid4().hex[:8]}:")
    codes = []
    with gw.client() as c:
        for who in ("198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2"):
            codes.append(c.post("/v1/conversations", json={}, headers={"X-Forwarded-For": who}).status_code)
    assert codes == [201, 201, 429, 201]


def test_a_forged_first_header_line_does_not_dodge_the_limit(gateway_factory) -> None:
    """HAProxy's `option forwardfor` appends its own X-Forwarded-For *line* after the one the
    shopper sent; the lines are one list (RFC 9110), so the proxy's entry is the client, whatever
    the shopper forged in the first line (found by tests/e2e/test_replicas.py)."""
    gw = gateway_factory(KEFU_RATE_LIMITS="on", KEFU_RATE_LIMIT_NEW_CONV_PER_MIN="2",
                         KEFU_RATE_LIMIT_IP_PER_MIN="1000", KEFU_TRUSTED_PROXIES="127.0.0.1",
                         KEFU_REDIS_PREFIX=f"gwt-xff2-{uuid.uuid4().hex[:8]}:")
    codes = []
    with gw.client() as c:
        for n in range(3):
            headers = [("X-Forwarded-For", f"203.0.113.{n + 1}"), ("X-Forwarded-For", "198.51.100.3")]
            codes.append(c.post("/v1/conversations", json={}, headers=headers).status_code)
    assert codes == [201, 201, 429]
