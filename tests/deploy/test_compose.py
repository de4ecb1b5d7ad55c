"""docker-compose.yml stays valid and wires every service the way the contract says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from kefu.cli import APPS, PORT_OFFSETS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose v1 not installed")
def test_docker_compose_config_validates() -> None:
    out = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr


def test_every_service_redis_and_postgres(compose: dict) -> None:
    services = compose["services"]
    assert {"redis", "postgres", *APPS} <= set(services)
    for name in APPS:
        svc = services[name]
        cmd = svc["command"]
        assert cmd[:3] == ["kefu", "serve", name]
        assert cmd[cmd.index("--port") + 1] == str(8000 + PORT_OFFSETS[name])
        assert "healthcheck" in svc, name
        assert svc["healthcheck"]["test"][-1].endswith(("/readyz", "/healthz"))
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, (name, dep)
            assert cond["condition"] in {"service_healthy", "service_started", "service_completed_successfully"}
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], (name, dep)


def test_dockerfile_and_ignore_exist() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "torch==2.13.0" in dockerfile and "FROM python:3.11-slim AS runtime" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored
