"""Circuit breaker shared by every caller of a remote dependency (the gateway's services, the llm
service's upstream): after a run of failures stop calling a dead peer — answer degraded or 503 at
once instead of waiting out its timeout — and let one probe through after a cooldown."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

BREAKER_STATE = Gauge("kefu_breaker_open", "1 while the dependency's breaker is open", ["dep"])
BREAKER_TRIPS = Counter("kefu_breaker_trips_total", "times a breaker opened", ["dep"])


@dataclass
class CircuitBreaker:
    """closed -> (failure_threshold consecutive failures) -> open for cooldown_s -> half-open (one probe)."""

    name: str = "dependency"
    failure_threshold: int = 3
    cooldown_s: float = 10.0
    failures: int = 0
    opened_at: float | None = None
    _probe_in_flight: bool = field(default=False, repr=False)

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if time.monotonic() - self.opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def allow(self) -> bool:
        """True if a call may go out now; in half-open only one probe at a time."""
        st = self.state
        if st == "closed":
            return True
        if st == "half_open" and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def retry_after(self) -> int:
        """Seconds until the next probe may go out (for a Retry-After header)."""
        if self.opened_at is None:
            return 1
        return max(1, int(self.cooldown_s - (time.monotonic() - self.opened_at)) + 1)

    def success(self) -> None:
        self.failures = 0
        self._probe_in_flight = False
        if self.opened_at is not None:
            self.opened_at = None
            BREAKER_STATE.labels(self.name).set(0)

    def failure(self) -> None:
        self._probe_in_flight = False
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.failure_threshold:
            if self.opened_at is None:
                BREAKER_TRIPS.labels(self.name).inc()
            self.opened_at = time.monotonic()
            BREAKER_STATE.labels(self.name).set(1)

    def snapshot(self) -> dict[str, object]:
        return {"state": self.state, "failures": self.failures}
