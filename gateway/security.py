"""Who may do what: conversation tokens (shopper owns one conversation), agent keys (hashed in
SQL, plus KEFU_AGENT_KEY), rate limits in Redis, and the CORS allow-list."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from kefu.db import AgentKey, session_factory
from kefu.errors import APIError


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """Conversation tokens are random 192-bit strings: a plain sha256 cannot be brute-forced."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_token(token), stored_hash)


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


# ---------------------------------------------------------------- agent keys

def hash_agent_key(key: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hmac.new(salt.encode(), key.encode(), hashlib.sha256).hexdigest()
    return f"hmac-sha256${salt}${digest}"


def verify_agent_key(key: str, stored: str) -> bool:
    try:
        algo, salt, digest = stored.split("$", 2)
    except ValueError:
        return False
    if algo != "hmac-sha256":
        return False
    return hmac.compare_digest(hash_agent_key(key, salt).rsplit("$", 1)[1], digest)


def create_agent_key(sql_url: str, name: str) -> str:
    """Store a new key's salted hash; the plain key is shown once and never stored."""
    key = "kfa_" + secrets.token_urlsafe(24)
    Session = session_factory(sql_url)
    with Session.begin() as s:
        s.add(AgentKey(name=name, key_hash=hash_agent_key(key)))
    return key


async def count_in_window(redis: Redis, key: str, window_s: int) -> int:
    """One more hit on a fixed window's counter (INCR + EXPIRE in one round trip); the count so far."""
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, window_s + 5)
    count, _ = await pipe.execute()
    return int(count)


class AgentLockout:
    """Wrong agent keys per client address: `max_failures` in a one-minute window lock the address
    out for `lockout_s` (429 + Retry-After), counted in Redis so every gateway replica agrees.

    During a lockout the address is refused even with a right key: otherwise 429 (wrong) versus
    200 (right) would still tell a guesser which key works, at full speed. A locked-out operator
    waits `lockout_s` or uses another address. If Redis is down the count falls back to this
    process (a guesser then gets `max_failures` per replica, not unlimited)."""

    def __init__(self, redis: Redis, prefix: str, max_failures: int, lockout_s: int, window_s: int = 60) -> None:
        self.redis = redis
        self.prefix = prefix + "gw:agentauth:"
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.window_s = window_s
        self._local_fail: dict[str, tuple[int, int]] = {}  # address -> (window, count)
        self._local_lock: dict[str, float] = {}  # address -> locked until (time.time())

    @property
    def enabled(self) -> bool:
        return self.max_failures > 0

    def _locked(self, retry_s: float) -> APIError:
        retry = max(1, int(retry_s + 0.999))
        return APIError(429, "agent_key_locked",
                        f"too many wrong agent keys from this address; retry in {retry}s",
                        headers={"Retry-After": str(retry)})

    async def check(self, client: str) -> None:
        """429 while `client` is locked out."""
        if not self.enabled:
            return
        try:
            ttl_ms = int(await self.redis.pttl(f"{self.prefix}lock:{client}"))
        except Exception:
            ttl_ms = int((self._local_lock.get(client, 0.0) - time.time()) * 1000)
        if ttl_ms > 0:
            raise self._locked(ttl_ms / 1000)

    async def failed(self, client: str) -> None:
        """Count one wrong key; the one that reaches the limit starts the lockout."""
        if not self.enabled:
            return
        window = int(time.time() // self.window_s)
        try:
            count = await count_in_window(self.redis, f"{self.prefix}fail:{client}:{window}", self.window_s)
            if count >= self.max_failures:
                await self.redis.set(f"{self.prefix}lock:{client}", "1", ex=self.lockout_s)
            return
        except Exception:
            pass
        w, n = self._local_fail.get(client, (window, 0))
        n = n + 1 if w == window else 1
        self._local_fail[client] = (window, n)
        if n >= self.max_failures:
            self._local_lock[client] = time.time() + self.lockout_s
        if len(self._local_fail) > 10000:  # many addresses: keep only this window's
            self._local_fail = {a: v for a, v in self._local_fail.items() if v[0] == window}


class AgentAuth:
    """Checks agent keys; verified keys are remembered (by digest) for a minute to keep
    dashboard calls cheap while a revoked key stops working within that minute. With a
    `lockout`, wrong keys count against the caller's address (AgentLockout)."""

    def __init__(self, sql_url: str, env_key: str | None, lockout: AgentLockout | None = None) -> None:
        self.Session: sessionmaker = session_factory(sql_url)
        self.env_key = env_key or None
        self.lockout = lockout
        self._ok: dict[str, tuple[float, str]] = {}

    def _check_sql(self, key: str) -> str | None:
        with self.Session() as s:
            for row in s.execute(select(AgentKey)).scalars():
                if verify_agent_key(key, row.key_hash):
                    return row.name
        return None

    async def check(self, key: str | None, client: str = "unknown") -> str:
        if not key:  # no guess: not counted
            raise APIError(401, "unauthorized", "agent key required (Authorization: Bearer KEY)",
                           headers={"WWW-Authenticate": "Bearer"})
        if self.lockout is not None:
            await self.lockout.check(client)
        try:
            return await self._verify(key)
        except APIError:
            if self.lockout is not None:
                await self.lockout.failed(client)
            raise

    async def _verify(self, key: str) -> str:
        if self.env_key and hmac.compare_digest(key, self.env_key):
            return "env"
        fp = hashlib.sha256(key.encode()).hexdigest()
        hit = self._ok.get(fp)
        now = time.monotonic()
        if hit and now - hit[0] < 60:
            return hit[1]
        name = await asyncio.to_thread(self._check_sql, key)
        if name is None:
            raise APIError(403, "forbidden", "agent key not recognised")
        self._ok[fp] = (now, name)
        return name


# ---------------------------------------------------------------- rate limits

class RateLimiter:
    """Fixed one-minute windows (INCR + EXPIRE in one round trip). If Redis is down the
    request passes: availability over strictness for a shop's chat."""

    def __init__(self, redis: Redis, prefix: str, enabled: bool) -> None:
        self.redis = redis
        self.prefix = prefix + "gw:rl:"
        self.enabled = enabled

    async def hit(self, scope: str, ident: str, limit: int, window_s: int = 60) -> None:
        if not self.enabled or limit <= 0:
            return
        now = time.time()
        window = int(now // window_s)
        try:
            count = await count_in_window(self.redis, f"{self.prefix}{scope}:{ident}:{window}", window_s)
        except Exception:
            return
        if count > limit:
            retry = max(1, int((window + 1) * window_s - now) + 1)
            raise APIError(429, "rate_limited", f"too many requests ({scope}); retry in {retry}s",
                           headers={"Retry-After": str(retry)})


def cors_origins(setting: str) -> list[str]:
    return [o.strip() for o in setting.split(",") if o.strip()]
