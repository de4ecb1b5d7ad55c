"""Verification factors, identity signatures and short answers, as plain functions."""

from __future__ import annotations

import pytest

from gateway.orders.source import Contact
from gateway.orders.verify import factor_matches, factors_in, identity_ok, sign_identity
from kefu.vocab.replies import yes_or_no

CONTACT = Contact(email="Ada.Silva@example.com", phone="+1 555-751-5371", postcode="SW1A 2AA",
                  address="Ada Silva, 7 Juniper St, London SW1A 2AA, United Kingdom")


@pytest.mark.parametrize(("text", "expecting", "want"), [
    ("my email is ada.silva@example.com", None, {"email": "ada.silva@example.com"}),
    ("我的邮箱是 ada.silva@example.com", None, {"email": "ada.silva@example.com"}),
    ("phone: +1 (555) 751-5371", None, {"phone": "+1 (555) 751-5371"}),
    ("postcode is SW1A 2AA", None, {"postcode": "SW1A 2AA"}),
    ("邮编 200120", None, {"postcode": "200120"}),
    ("53794", "postcode", {"postcode": "53794"}),
    ("53794", None, {}),
    ("where is KF100001", None, {}),
])
def test_factors_in(text: str, expecting: str | None, want: dict) -> None:
    assert factors_in(text, expecting=expecting) == want


@pytest.mark.parametrize(("factor", "given", "ok"), [
    ("email", "ada.silva@EXAMPLE.com ", True), ("email", "ada@example.com", False),
    ("phone", "555 751 5371", True), ("phone", "751-5371", True), ("phone", "555 000 0000", False),
    ("postcode", "sw1a2aa", True), ("postcode", "SW1A", False), ("postcode", "7", False),
])
def test_factor_matches(factor: str, given: str, ok: bool) -> None:
    assert factor_matches(factor, given, CONTACT) is ok


def test_postcode_is_never_guessed_from_the_address() -> None:
    """House numbers in the address text must not pass as a postcode."""
    assert not factor_matches("postcode", "7", Contact(address="7 Juniper St, London"))
    assert not factor_matches("postcode", "SW1A 2AA", Contact(address="London SW1A 2AA"))


def test_identity_signature() -> None:
    sig = sign_identity("s3cret", "Ada@Example.com")
    assert identity_ok("s3cret", "ada@example.com", sig)
    assert not identity_ok("s3cret", "eve@example.com", sig)
    assert not identity_ok("other", "ada@example.com", sig)
    assert not identity_ok(None, "ada@example.com", sig)  # no secret set: no signed-in shoppers


@pytest.mark.parametrize(("text", "want"), [
    ("yes", "yes"), ("Yes, cancel it", "yes"), ("ok", "yes"), ("确认", "yes"), ("是的", "yes"), ("好的，取消吧", "yes"),
    ("no", "no"), ("No thanks", "no"), ("不用了", "no"), ("算了", "no"), ("不是的", "no"),
    ("yes but change the address instead", None), ("ok and where is my other order?", None),
    ("where is my order", None), ("取消", None),
])
def test_yes_or_no(text: str, want: str | None) -> None:
    assert yes_or_no(text) == want
