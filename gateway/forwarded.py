"""The shopper's address behind a load balancer or ingress, for per-address rate limits.

X-Forwarded-For is written by whoever sent the request, so it is believed only when the peer is
one of the operator's proxies (KEFU_TRUSTED_PROXIES): then the header is read from the right,
past every trusted hop, and the first address no trusted proxy vouches for is the client. With
no trusted proxies (the default) the header is ignored and the peer is the client — a shopper
cannot dodge the limit by sending a header of their own.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_trusted(spec: str) -> tuple[Network, ...]:
    """'10.0.0.0/8, 127.0.0.1, ::1' -> networks; raises ValueError on a malformed entry."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip())


def _trusted(addr: str, nets: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_address(peer: str, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str:
    if not trusted or not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage where an address should be: do not key a limit on it
    return hops[0] if hops else peer  # every hop is a proxy of ours: the farthest one
