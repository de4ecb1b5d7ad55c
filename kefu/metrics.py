"""Prometheus metrics shared by all services: per-route request counts and latencies."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.responses import Response

REQUESTS = Counter(
    "kefu_http_requests_total", "HTTP requests served", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "kefu_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def metrics_response() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
