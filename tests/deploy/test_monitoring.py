"""The Grafana dashboard and the Prometheus rules ask only for metrics and labels the code exports
(promtool is not to be had here, so PromQL is checked by a small tokenizer, YAML by structure)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "kefu-overview.json"
RULES = ROOT / "deploy" / "prometheus" / "kefu-alerts.yaml"
ADAPTER = ROOT / "deploy" / "prometheus" / "prometheus-adapter-rules.yaml"

# Labels Prometheus adds when it scrapes a target (Kubernetes service discovery / ServiceMonitor).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "container", "endpoint", "service", "node"}
PROMQL_FUNCTIONS = {
    "abs", "absent", "absent_over_time", "avg", "avg_over_time", "ceil", "changes", "clamp", "clamp_max",
    "clamp_min", "count", "count_over_time", "delta", "deriv", "exp", "floor", "histogram_quantile",
    "idelta", "increase", "irate", "label_replace", "last_over_time", "ln", "max", "max_over_time", "min",
    "min_over_time", "quantile", "quantile_over_time", "rate", "resets", "round", "scalar", "sort",
    "sort_desc", "sqrt", "stddev", "sum", "sum_over_time", "time", "topk", "bottomk", "vector",
}
PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
                   "bool", "offset"}
# The issue's list: each must be on the dashboard and behind an alert.
REQUIRED = {
    "turn latency": "kefu_gateway_turn_seconds_bucket",
    "degraded turns": "kefu_gateway_degraded_total",
    "breaker state": "kefu_breaker_open",
    "LLM queue depth": "kefu_llm_queue_depth",
    "TTFT": "kefu_llm_ttft_seconds_bucket",
    "grounding rejections": "kefu_gateway_grounding_rejections_total",
    "handoffs": "kefu_gateway_handoffs_total",
}

_METRIC_DEF = re.compile(
    r'\b(Counter|Gauge|Histogram|Summary)\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"\s*,\s*"(?:[^"\\]|\\.)*"\s*'
    r'(?:,\s*\[([^\]]*)\])?')


def exported_metrics() -> dict[str, set[str]]:
    """Series names the code exports (prometheus_client's naming) -> their label names."""
    out: dict[str, set[str]] = {}
    for folder in ("gateway", "services", "kefu"):
        for path in (ROOT / folder).rglob("*.py"):
            for kind, name, labels in _METRIC_DEF.findall(path.read_text()):
                names = set(re.findall(r'"([a-zA-Z_][a-zA-Z0-9_]*)"', labels or ""))
                base = name.removesuffix("_total") if kind == "Counter" else name
                series = {"Counter": [f"{base}_total"], "Gauge": [name],
                          "Histogram": [f"{name}_bucket", f"{name}_sum", f"{name}_count"],
                          "Summary": [name, f"{name}_sum", f"{name}_count"]}[kind]
                for s in series:
                    out[s] = names | ({"le"} if s.endswith("_bucket") and kind == "Histogram" else set())
    return out


METRICS = exported_metrics()


def parse_promql(expr: str) -> tuple[list[tuple[str, set[str]]], set[str], set[str]]:
    """(metric name, matcher labels) of each selector, the grouping labels, the function names."""
    expr = re.sub(r"\$__\w+|\$\{\w+\}|\$\w+", "5m", expr)
    grouping: set[str] = set()
    for labels in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr):
        grouping |= {x.strip() for x in labels.split(",") if x.strip()}
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    selectors: list[tuple[str, set[str]]] = []

    def selector(m: re.Match[str]) -> str:
        labels = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", m.group(2)))
        assert m.group(1), f"selector without a metric name in {expr!r}"
        selectors.append((m.group(1), labels))
        return " "

    expr = re.sub(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}", selector, expr)
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', " ", expr)
    expr = re.sub(r"\[[^\]]*\]", " ", expr)
    functions = set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*\(", expr))
    expr = re.sub(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*\(", "(", expr)
    for token in re.findall(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)", expr):
        if token not in PROMQL_KEYWORDS and not re.fullmatch(r"\d+[smhdwy]|e\d*|Inf|NaN", token):
            selectors.append((token, set()))
    return selectors, grouping, functions


def check_expr(expr: str, where: str) -> set[str]:
    """Assert the expression names only exported metrics, their labels and real functions."""
    selectors, grouping, functions = parse_promql(expr)
    assert selectors, f"{where}: no metric in {expr!r}"
    assert functions <= PROMQL_FUNCTIONS, f"{where}: unknown functions {functions - PROMQL_FUNCTIONS}"
    known: set[str] = set(TARGET_LABELS)
    for name, labels in selectors:
        assert name in METRICS, f"{where}: metric {name!r} is not exported by the code"
        assert labels <= METRICS[name] | TARGET_LABELS, f"{where}: {name} has no labels {labels - METRICS[name]}"
        known |= METRICS[name]
    assert grouping <= known, f"{where}: grouping by labels no metric has: {grouping - known}"
    return {name for name, _ in selectors} | grouping


def test_metric_catalog_is_read_from_the_code() -> None:
    assert {"kefu_gateway_turn_seconds_bucket", "kefu_breaker_open", "kefu_llm_queue_depth",
            "kefu_http_requests_total"} <= set(METRICS)
    assert METRICS["kefu_gateway_degraded_total"] == {"dep"}
    assert METRICS["kefu_gateway_turn_seconds_bucket"] == {"source", "le"}


def test_the_promql_check_rejects_what_does_not_exist() -> None:
    with pytest.raises(AssertionError, match="not exported"):
        check_expr("sum(rate(kefu_gateway_turns_seconds_total[5m]))", "typo")
    with pytest.raises(AssertionError, match="has no labels"):
        check_expr('sum(rate(kefu_gateway_degraded_total{depp="x"}[5m]))', "label")
    with pytest.raises(AssertionError, match="grouping"):
        check_expr("sum by (reason) (rate(kefu_gateway_degraded_total[5m]))", "grouping")
    with pytest.raises(AssertionError, match="unknown functions"):
        check_expr("histogram_quantil(0.5, sum by (le) (rate(kefu_gateway_turn_seconds_bucket[5m])))", "fn")
    ok = ('histogram_quantile(0.99, sum by (le) (rate(kefu_gateway_turn_seconds_bucket'
          '{source=~"template|cache"}[$__rate_interval]))) > 0.25')
    assert check_expr(ok, "ok") == {"kefu_gateway_turn_seconds_bucket", "le"}


# --- Grafana ----------------------------------------------------------------------------------


def dashboard_panels() -> list[dict]:
    dash = json.loads(DASHBOARD.read_text())
    out = []
    for p in dash["panels"]:
        out += [p, *p.get("panels", [])]
    return out


def test_dashboard_is_a_grafana_dashboard() -> None:
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] == "kefu-overview" and dash["title"] and isinstance(dash["schemaVersion"], int)
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in dashboard_panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in dashboard_panels():
        pos = p["gridPos"]
        assert 0 <= pos["x"] and pos["x"] + pos["w"] <= 24 and pos["h"] > 0, p["title"]
        if p["type"] == "row":
            continue
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, p["title"]
        assert p["targets"], p["title"]


def test_dashboard_queries_name_only_exported_metrics() -> None:
    seen: set[str] = set()
    for p in dashboard_panels():
        for t in p.get("targets", []):
            where = f"panel {p['title']!r} {t['refId']}"
            names = check_expr(t["expr"], where)
            seen |= names
            # A legend names only labels the query keeps.
            _, grouping, _ = parse_promql(t["expr"])
            legend = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", "")))
            assert legend <= grouping, f"{where}: legend labels {legend - grouping} are aggregated away"
    missing = {what: m for what, m in REQUIRED.items() if m not in seen}
    assert not missing, f"the dashboard shows none of: {missing}"


# --- Prometheus rules -------------------------------------------------------------------------


def test_rules_file_is_a_prometheus_rules_file() -> None:
    doc = yaml.safe_load(RULES.read_text())
    assert set(doc) == {"groups"} and doc["groups"]
    group_names, alert_names = [], []
    for g in doc["groups"]:
        assert set(g) <= {"name", "interval", "rules", "limit"} and g["rules"], g.get("name")
        group_names.append(g["name"])
        for r in g["rules"]:
            assert ("alert" in r) != ("record" in r), r
            assert set(r) <= {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}, r
            assert isinstance(r["expr"], str) and r["expr"].strip()
            if "for" in r:
                assert re.fullmatch(r"(\d+[smhdwy])+", r["for"]), r["for"]
            if "alert" in r:
                alert_names.append(r["alert"])
                assert r["labels"]["severity"] in {"info", "warning", "critical"}, r["alert"]
                assert r["annotations"]["summary"] and r["annotations"]["description"], r["alert"]
                for text in r["annotations"].values():
                    assert text.count("{{") == text.count("}}"), r["alert"]
                    for ref in re.findall(r"\$labels\.(\w+)", text):
                        _, grouping, _ = parse_promql(r["expr"])
                        assert ref in grouping, f"{r['alert']}: $labels.{ref} is aggregated away"
    assert len(group_names) == len(set(group_names)) and len(alert_names) == len(set(alert_names))


def test_rules_name_only_exported_metrics_and_cover_the_issue() -> None:
    seen: set[str] = set()
    for g in yaml.safe_load(RULES.read_text())["groups"]:
        for r in g["rules"]:
            seen |= check_expr(r["expr"], r.get("alert") or r.get("record"))
    missing = {what: m for what, m in REQUIRED.items() if m not in seen}
    assert not missing, f"no alert watches: {missing}"


def test_prometheus_adapter_rules_serve_the_hpa_metric() -> None:
    doc = yaml.safe_load(ADAPTER.read_text())
    for rule in doc["rules"] + doc["externalRules"]:
        (name,) = re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{", rule["seriesQuery"])
        assert name in METRICS and rule["name"]["as"] == name == "kefu_llm_queue_depth"
        assert "<<.Series>>" in rule["metricsQuery"] and "<<.LabelMatchers>>" in rule["metricsQuery"]
    values = yaml.safe_load((ROOT / "deploy/helm/kefu/values.yaml").read_text())
    assert values["services"]["llm"]["autoscaling"]["queueDepth"]["metricName"] == "kefu_llm_queue_depth"


def test_chart_files_are_the_repository_files() -> None:
    chart_files = ROOT / "deploy" / "helm" / "kefu" / "files"
    assert (chart_files / "kefu-alerts.yaml").read_bytes() == RULES.read_bytes()
    assert (chart_files / "kefu-overview.json").read_bytes() == DASHBOARD.read_bytes()
