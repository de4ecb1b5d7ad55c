"""Redis clients for one node, a Cluster or a Sentinel-watched primary, chosen by the URL.

One setting (REDIS_URL) covers all three, so a deployment moves past one Redis without any
other change:
  redis://host:port/db                       one node (also rediss://, unix://)
  redis+cluster://host:port[,host:port]/     Redis Cluster (rediss+cluster:// for TLS)
  redis+sentinel://host:port[,host:port]/name[/db]   the primary Sentinel names `name`

Code that runs a multi-key script or transaction keeps every key in one hash slot (see
`services/dialog/store.py`), so the same calls work on all three.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterNode as AsyncClusterNode
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.cluster import ClusterNode
from redis.sentinel import Sentinel

CLUSTER_SCHEMES = ("redis+cluster", "rediss+cluster")
SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")

# Pool options a cluster or sentinel client does not take as such.
_NODE_ONLY = ("max_connections", "health_check_interval")


def is_cluster(url: str) -> bool:
    return url.split("://", 1)[0].lower() in CLUSTER_SCHEMES


def is_cluster_client(client: object) -> bool:
    return isinstance(client, aioredis.RedisCluster | redis.RedisCluster)


def _hosts(netloc: str) -> tuple[list[tuple[str, int]], str | None, str | None]:
    """host:port pairs of a comma-separated netloc, plus the user and password before '@'."""
    user = password = None
    if "@" in netloc:
        cred, netloc = netloc.rsplit("@", 1)
        user, _, pw = cred.partition(":")
        user, password = unquote(user) or None, unquote(pw) or None
    hosts = []
    for part in netloc.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host:
            host, port = port, "6379"
        hosts.append((host.strip("[]"), int(port or 6379)))
    return hosts, user, password


def _split(url: str) -> tuple[str, list[tuple[str, int]], str | None, str | None, str]:
    scheme, rest = url.split("://", 1)
    netloc, _, path = rest.partition("/")
    hosts, user, password = _hosts(netloc)
    return scheme.lower(), hosts, user, password, urlsplit("x://h/" + path).path.strip("/")


def async_client(url: str, **kw: Any) -> Any:
    """An asyncio client for `url` (redis.asyncio.Redis or RedisCluster)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in CLUSTER_SCHEMES:
        _, hosts, user, password, _ = _split(url)
        pool_max = kw.pop("max_connections", None)
        for k in _NODE_ONLY:
            kw.pop(k, None)
        if pool_max:
            kw["max_connections"] = pool_max  # per node in a cluster
        return aioredis.RedisCluster(startup_nodes=[AsyncClusterNode(h, p) for h, p in hosts],
                                     username=user, password=password, ssl=scheme.startswith("rediss"), **kw)
    if scheme in SENTINEL_SCHEMES:
        return _sentinel_primary(AsyncSentinel, url, scheme, kw)
    return aioredis.from_url(url, **kw)


def _sentinel_primary(sentinel_cls: Any, url: str, scheme: str, kw: dict[str, Any]) -> Any:
    """The primary a Sentinel group names (`redis+sentinel://h:p,h:p/name/db`), sync or async
    by the Sentinel class given: the client follows a failover without a restart."""
    _, hosts, user, password, path = _split(url)
    name, _, db = path.partition("/")
    sentinel = sentinel_cls(hosts, socket_timeout=kw.get("socket_timeout") or 1.0)
    kw.pop("health_check_interval", None)
    return sentinel.master_for(name or "mymaster", username=user, password=password,
                               db=int(db or 0), ssl=scheme.startswith("rediss"), **kw)


def sync_client(url: str, **kw: Any) -> Any:
    """A blocking client for `url` (CLI tools, health probes, tests)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in CLUSTER_SCHEMES:
        _, hosts, user, password, _ = _split(url)
        for k in _NODE_ONLY:
            kw.pop(k, None)
        return redis.RedisCluster(startup_nodes=[ClusterNode(h, p) for h, p in hosts],
                                  username=user, password=password, ssl=scheme.startswith("rediss"), **kw)
    if scheme in SENTINEL_SCHEMES:
        return _sentinel_primary(Sentinel, url, scheme, kw)
    return redis.Redis.from_url(url, **kw)
