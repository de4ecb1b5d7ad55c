"""A private Redis Cluster (3 masters, `redis-server --cluster-enabled yes`) on free 127.0.0.1
ports, for the suites that must pass against a Cluster as well as one Redis.

`python -m tests.redis_cluster -- CMD…` starts one, runs CMD with KEFU_TEST_REDIS_CLUSTER set to
its `redis+cluster://` URL, and stops it (what `make test-cluster` does).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.conftest import free_port


def available() -> bool:
    return bool(shutil.which("redis-server") and shutil.which("redis-cli"))


@contextmanager
def redis_cluster(masters: int = 3) -> Iterator[str]:
    """Yield the URL of a fresh cluster; every node is killed and its files removed after."""
    tmp = Path(tempfile.mkdtemp(prefix="kefu-rcluster-"))
    procs: list[subprocess.Popen] = []
    ports: list[int] = []
    try:
        for i in range(masters):
            # the cluster bus listens on port + 10000: both must be free
            while True:
                port = free_port()
                if port + 10000 < 65535 and port not in ports:
                    break
            ports.append(port)
            d = tmp / str(i)
            d.mkdir()
            procs.append(subprocess.Popen(
                ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                 "--cluster-config-file", str(d / "nodes.conf"), "--cluster-node-timeout", "2000",
                 "--appendonly", "no", "--save", "", "--dir", str(d), "--protected-mode", "no"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        for port in ports:
            _wait_ping(port)
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                        "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=60)
        _wait_ok(ports)
        yield "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in ports) + "/"
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_ping(port: int) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            if redis.Redis(port=port, socket_timeout=0.5).ping():
                return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def _wait_ok(ports: list[int]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        infos = [redis.Redis(port=p, decode_responses=True).cluster("INFO") for p in ports]
        if all("cluster_state:ok" in str(i) or (isinstance(i, dict) and i.get("cluster_state") == "ok")
               for i in infos):
            return
        time.sleep(0.1)
    raise RuntimeError("redis cluster did not reach cluster_state:ok")


def main(argv: list[str]) -> int:
    cmd = argv[1:] if argv and argv[0] == "--" else argv
    with redis_cluster() as url:
        print(f"[redis-cluster] {url}", file=sys.stderr, flush=True)
        return subprocess.call(cmd, env={**os.environ, "KEFU_TEST_REDIS_CLUSTER": url})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
