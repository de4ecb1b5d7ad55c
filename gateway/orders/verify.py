"""How a shopper proves an order is theirs before the bot says anything about it or acts on it.

- A second factor the order holds: its email (default), phone or postcode (`KEFU_VERIFY_FACTOR`),
  typed in the chat. Wrong factors are counted per conversation and order (distinct values:
  repeating one wrong email counts once) and per order across conversations; past the limits the
  order is locked for that conversation and the bot offers a person instead.
- A signed-in shopper: the shop signs the shopper's email with a shared secret
  (`KEFU_IDENTITY_SECRET`, HMAC-SHA256 hex, like Chatwoot's `identifier_hash`) and the widget
  passes both when it opens the conversation; every order with that email is then verified.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from redis.asyncio import Redis

from gateway.orders.source import Contact

FACTORS = ("email", "phone", "postcode")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{6,}\d(?!\w)")
POSTCODE = re.compile(r"(?:post\s*code|postal\s*code|zip(?:\s*code)?|邮编|邮政编码)\s*(?:is|:|：)?\s*"
                      r"([A-Za-z0-9][A-Za-z0-9 -]{1,9}[A-Za-z0-9])", re.I)
WINDOW_S = 3600


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _alnum(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", s).upper()


def factors_in(text: str, *, expecting: str | None = None) -> dict[str, str]:
    """The verification factors a message states. When the bot asked for a postcode, a message
    that is just a postcode counts too ("53794")."""
    out: dict[str, str] = {}
    if m := EMAIL.search(text):
        out["email"] = m.group(0)
    scrubbed = EMAIL.sub(" ", text)
    if m := POSTCODE.search(scrubbed):
        out["postcode"] = m.group(1)
    elif expecting == "postcode" and re.fullmatch(r"\s*[A-Za-z0-9][A-Za-z0-9 -]{2,9}\s*", scrubbed):
        out["postcode"] = scrubbed.strip()
    for m in PHONE.finditer(scrubbed):
        if 7 <= len(_digits(m.group(0))) <= 15:
            out["phone"] = m.group(0)
            break
    return out


def factor_matches(factor: str, given: str, contact: Contact) -> bool:
    if factor == "email":
        return bool(contact.email) and given.strip().lower() == contact.email.strip().lower()
    if factor == "phone":
        a, b = sorted((_digits(given), _digits(contact.phone)), key=len)
        return len(a) >= 7 and b.endswith(a)  # with or without the country / area code
    if factor == "postcode":  # the order's postcode field, never a guess from the address text
        return bool(contact.postcode) and len(_alnum(given)) >= 3 and _alnum(given) == _alnum(contact.postcode)
    return False


def sign_identity(secret: str, email: str) -> str:
    """The signature a shop's server computes for a signed-in shopper (hex HMAC-SHA256 of the email)."""
    return hmac.new(secret.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def identity_ok(secret: str | None, email: str, signature: str) -> bool:
    return bool(secret) and hmac.compare_digest(sign_identity(secret or "", email), signature.strip().lower())


@dataclass
class Attempts:
    """Wrong factors, counted in Redis (a lost Redis forgets them: availability over strictness,
    like the rate limits)."""

    redis: Redis
    prefix: str
    per_conversation: int = 10
    per_order_hour: int = 30

    def _keys(self, cid: str, order_id: str) -> tuple[str, str]:
        return (f"{self.prefix}gw:vf:{{{cid}}}:{order_id}", f"{self.prefix}gw:vfo:{order_id}")

    async def locked(self, cid: str, order_id: str) -> bool:
        conv, order = self._keys(cid, order_id)
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.scard(conv)
            pipe.get(order)
            n_conv, n_order = await pipe.execute()
        except Exception:
            return False
        return int(n_conv or 0) >= self.per_conversation or int(n_order or 0) >= self.per_order_hour

    async def fail(self, cid: str, order_id: str, value: str) -> None:
        conv, order = self._keys(cid, order_id)
        digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:16]
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.sadd(conv, digest)
            pipe.expire(conv, 7 * 24 * 3600)
            pipe.incr(order)
            pipe.expire(order, WINDOW_S)
            await pipe.execute()
        except Exception:
            return
