"""The Helm chart (deploy/helm/kefu) renders with `helm template`, every object it renders validates
against the Kubernetes schema, and it carries what running kefu past one machine needs: probes,
resources, PDBs and HPAs per service, a first-run build Job, SSE-friendly Ingress, every setting."""

from __future__ import annotations

import base64
import importlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from kefu.cli import PORT_OFFSETS

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "kefu"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
ALL_OPTIONS = CHART / "ci" / "all-options-values.yaml"
CPU_SERVICES = ("gateway", "intent", "dialog", "retrieval")
SERVICES = (*CPU_SERVICES, "llm")
# The chart declares kubeVersion >=1.25; validate against that and the newest bundled schema.
KUBE_VERSIONS = ("1.25.0", kubernetes_validate.latest_version())
SECRET_KEYS = {"DATABASE_URL", "REDIS_URL", "KEFU_AGENT_KEY", "KEFU_LLM_UPSTREAM_API_KEY", "KEFU_INTERNAL_TOKEN"}

# Prometheus Operator kinds have no schema in kubernetes-validate: check the fields Prometheus reads.
CRD_SCHEMAS = {
    "ServiceMonitor": {
        "type": "object", "required": ["spec"],
        "properties": {"spec": {
            "type": "object", "required": ["selector", "endpoints"],
            "properties": {
                "selector": {"type": "object", "required": ["matchLabels"]},
                "endpoints": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["port", "path"],
                    "properties": {"port": {"type": "string"}, "path": {"type": "string"},
                                   "interval": {"type": "string", "pattern": r"^\d+[smh]$"}}}}}}},
    },
    "PrometheusRule": {
        "type": "object", "required": ["spec"],
        "properties": {"spec": {
            "type": "object", "required": ["groups"],
            "properties": {"groups": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["name", "rules"],
                "properties": {"rules": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["expr"],
                    "properties": {"alert": {"type": "string"}, "expr": {"type": "string"},
                                   "for": {"type": "string"}}}}}}}}}},
    },
}


def find_helm() -> str | None:
    for cand in (shutil.which("helm"), ROOT / ".venv" / "bin" / "helm", Path(sys.executable).parent / "helm"):
        if cand and Path(cand).is_file():
            return str(cand)
    return None


HELM = find_helm()
pytestmark = pytest.mark.skipif(
    HELM is None, reason="no helm binary on PATH or in .venv/bin: `make install` brings one (deploy/install_helm.py)")


def helm_template(*args: str) -> subprocess.CompletedProcess[str]:
    assert HELM is not None
    return subprocess.run([HELM, "template", "kefu", str(CHART), "--namespace", "shop", *args],
                          capture_output=True, text=True, timeout=60)


_RENDERED: dict[tuple[str, ...], list[dict]] = {}


def render(*args: str) -> list[dict]:
    """Rendered objects of `helm template` with these arguments (cached: renders are pure)."""
    if args not in _RENDERED:
        out = helm_template(*args)
        assert out.returncode == 0, out.stderr
        _RENDERED[args] = [d for d in yaml.safe_load_all(out.stdout) if d]
    return _RENDERED[args]


def render_values(tmp_path: Path, values: dict, *extra: str) -> list[dict]:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return render(*extra, "-f", str(path))


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def one(docs: list[dict], kind: str, name: str) -> dict:
    objs = by_kind(docs, kind)
    assert name in objs, f"no {kind} {name}; have {sorted(objs)}"
    return objs[name]


def settings_of(docs: list[dict]) -> dict[str, str]:
    """What a kefu container's environment gets: the release ConfigMap plus the decoded Secret."""
    env = dict(one(docs, "ConfigMap", "kefu-config")["data"])
    secret = by_kind(docs, "Secret").get("kefu-secret")
    if secret:
        env.update({k: base64.b64decode(v).decode() for k, v in secret["data"].items()})
    return env


def container(deploy: dict) -> dict:
    (c,) = deploy["spec"]["template"]["spec"]["containers"]
    return c


VARIANTS = [pytest.param((), id="defaults")] + [
    pytest.param(("-f", str(p)), id=p.stem) for p in CI_VALUES]


def test_ci_values_files_exist() -> None:
    assert {p.name for p in CI_VALUES} >= {"all-options-values.yaml", "external-llm-values.yaml",
                                           "proxy-llm-values.yaml", "llm-off-values.yaml"}


@pytest.mark.parametrize("args", VARIANTS)
def test_helm_lint_strict(args: tuple[str, ...]) -> None:
    assert HELM is not None
    out = subprocess.run([HELM, "lint", "--strict", str(CHART), *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


def test_chart_renders_offline_without_dependencies() -> None:
    """Chart dependencies would need `helm dependency build` (a network fetch) before any render."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and not chart.get("dependencies")
    out = helm_template()
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("args", VARIANTS)
def test_every_object_validates_against_the_kubernetes_schema(args: tuple[str, ...]) -> None:
    docs = render(*args)
    assert docs
    for doc in docs:
        name = f'{doc.get("kind")}/{doc.get("metadata", {}).get("name")}'
        if doc.get("kind") in CRD_SCHEMAS:
            assert doc["apiVersion"] == "monitoring.coreos.com/v1", name
            jsonschema.validate(doc, CRD_SCHEMAS[doc["kind"]])
            continue
        for version in KUBE_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{name} is invalid for Kubernetes {version}: {exc.message} at {list(exc.path)}")
            except kubernetes_validate.SchemaNotFoundError:
                pytest.fail(f"{name}: no Kubernetes {version} schema for {doc['apiVersion']} {doc['kind']}")


@pytest.mark.parametrize("args", [(), ("-f", str(ALL_OPTIONS))], ids=["defaults", "all-options"])
def test_each_service_has_deployment_service_probes_resources_pdb(args: tuple[str, ...]) -> None:
    docs = render(*args)
    deployments, services = by_kind(docs, "Deployment"), by_kind(docs, "Service")
    pdbs = by_kind(docs, "PodDisruptionBudget")
    image = {container(deployments[f"kefu-{n}"])["image"] for n in CPU_SERVICES}
    assert len(image) == 1, f"one image for every service, got {image}"
    for name in SERVICES:
        dep = deployments[f"kefu-{name}"]
        c = container(dep)
        port = 8000 + PORT_OFFSETS[name]
        assert c["command"] == ["kefu", "serve", name, "--host", "0.0.0.0", "--port", str(port)]
        assert c["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz", name
        requests = c["resources"]["requests"]
        assert requests.get("cpu") and requests.get("memory"), name
        assert c["resources"]["limits"].get("memory"), name
        labels = dep["spec"]["template"]["metadata"]["labels"]
        assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
        svc = services[f"kefu-{name}"]
        assert svc["spec"]["selector"].items() <= labels.items(), name
        assert svc["spec"]["ports"][0]["port"] == port and svc["spec"]["ports"][0]["targetPort"] == "http"
        pdb = pdbs[f"kefu-{name}"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(), name
        assert "maxUnavailable" in pdb["spec"]
        env_from = {next(iter(ref.values()))["name"] for ref in c["envFrom"]}
        assert env_from == {"kefu-config", "kefu-secret"}, name
        annotations = dep["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(port) and annotations["prometheus.io/path"] == "/metrics"


def test_hpa_on_cpu_for_cpu_services_and_on_queue_depth_for_llm() -> None:
    default_hpas = by_kind(render(), "HorizontalPodAutoscaler")
    assert set(default_hpas) == {f"kefu-{n}" for n in CPU_SERVICES}
    for name in CPU_SERVICES:
        hpa = default_hpas[f"kefu-{name}"]
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"kefu-{name}"}
        (metric,) = hpa["spec"]["metrics"]
        assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
        # The Deployment leaves replicas to the HPA.
        assert "replicas" not in one(render(), "Deployment", f"kefu-{name}")["spec"]

    llm = one(render("-f", str(ALL_OPTIONS)), "HorizontalPodAutoscaler", "kefu-llm")
    (metric,) = llm["spec"]["metrics"]
    assert metric["type"] == "Pods" and metric["pods"]["metric"]["name"] == "kefu_llm_queue_depth"
    assert metric["pods"]["target"]["type"] == "AverageValue"
    # The metric is the engine's own gauge.
    assert re.search(r'Gauge\(\s*"kefu_llm_queue_depth"', (ROOT / "services/llm/metrics.py").read_text())

    external = render("-f", str(ALL_OPTIONS), "--set", "services.llm.autoscaling.queueDepth.metricType=External")
    (metric,) = one(external, "HorizontalPodAutoscaler", "kefu-llm")["spec"]["metrics"]
    assert metric["type"] == "External" and metric["external"]["metric"]["name"] == "kefu_llm_queue_depth"

    # Proxy mode has no local queue: CPU.
    proxy = one(render("-f", str(CHART / "ci" / "proxy-llm-values.yaml")), "HorizontalPodAutoscaler", "kefu-llm")
    assert [m["type"] for m in proxy["spec"]["metrics"]] == ["Resource"]


def test_services_find_each_other_through_the_rendered_services() -> None:
    docs = render()
    env = settings_of(docs)
    services = by_kind(docs, "Service")
    for name in ("intent", "dialog", "retrieval"):
        port = services[f"kefu-{name}"]["spec"]["ports"][0]["port"]
        assert env[f"KEFU_{name.upper()}_URL"] == f"http://kefu-{name}:{port}"
    assert env["KEFU_LLM_URL"] == "http://kefu-llm:8004/v1"
    assert env["KEFU_DATA_DIR"] == "/data"
    # Bundled stores: the URLs name the bundled Services.
    assert env["REDIS_URL"] == "redis://kefu-redis:6379/0" and "kefu-redis" in services
    assert env["DATABASE_URL"].startswith("postgresql://kefu:") and "@kefu-postgresql:5432/kefu" in env["DATABASE_URL"]
    assert "kefu-postgresql" in by_kind(docs, "StatefulSet")


def test_llm_modes() -> None:
    ext = render("-f", str(CHART / "ci" / "external-llm-values.yaml"))
    assert "kefu-llm" not in by_kind(ext, "Deployment") and "kefu-llm" not in by_kind(ext, "Service")
    assert one(ext, "ConfigMap", "kefu-config")["data"]["KEFU_LLM_URL"] == "http://sglang.inference.svc:30000/v1"
    # existingSecret: no Secret rendered, every pod reads the named one.
    assert "kefu-secret" not in by_kind(ext, "Secret")
    for name in CPU_SERVICES:
        env_from = container(one(ext, "Deployment", f"kefu-{name}"))["envFrom"]
        assert "kefu-settings" in [r.get("secretRef", {}).get("name") for r in env_from]

    proxy = render("-f", str(CHART / "ci" / "proxy-llm-values.yaml"))
    env = settings_of(proxy)
    assert env["KEFU_LLM_UPSTREAM"] == "http://vllm.inference.svc:8000/v1"
    assert env["KEFU_LLM_URL"] == "http://kefu-llm:8004/v1"
    # A proxy needs no local model: no init container builds one.
    assert "initContainers" not in one(proxy, "Deployment", "kefu-llm")["spec"]["template"]["spec"]

    off = render("-f", str(CHART / "ci" / "llm-off-values.yaml"))
    assert settings_of(off)["KEFU_LLM_URL"] == "off" and "kefu-llm" not in by_kind(off, "Deployment")


def test_gpu_llm_engine() -> None:
    docs = render("-f", str(ALL_OPTIONS))
    dep = one(docs, "Deployment", "kefu-llm")
    spec = dep["spec"]["template"]["spec"]
    c = container(dep)
    assert c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert c["image"] == "registry.example.com/kefu:0.1.0-cuda"
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert dep["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    # CPU services keep the plain image and no GPU.
    gateway = container(one(docs, "Deployment", "kefu-gateway"))
    assert gateway["image"] == "registry.example.com/kefu:0.1.0"
    assert "nvidia.com/gpu" not in gateway["resources"]["limits"]


def test_ingress_is_sse_friendly_and_points_at_the_gateway() -> None:
    docs = render("-f", str(ALL_OPTIONS))
    ing = one(docs, "Ingress", "kefu")
    ann = ing["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    # Longer than any stream the gateway holds: a reply's budget is 15 s, event streams stay open.
    assert int(ann["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600
    assert int(ann["nginx.ingress.kubernetes.io/proxy-send-timeout"]) >= 3600
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "kefu-gateway", "port": {"name": "http"}}
    assert ing["spec"]["tls"][0]["secretName"] == "kefu-tls"
    assert "Ingress" not in {d["kind"] for d in render()}


def test_build_job_is_a_hook_with_its_own_copy_of_the_settings() -> None:
    for args, hook in (((), "post-install,pre-upgrade"), (("-f", str(ALL_OPTIONS)), "pre-install,pre-upgrade")):
        docs = render(*args)
        job = one(docs, "Job", "kefu-build")
        assert job["metadata"]["annotations"]["helm.sh/hook"] == hook
        script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
        assert "kefu db upgrade" in script and "kefu build --only retrieval --only gateway --only dialog" in script
        cm, secret = one(docs, "ConfigMap", "kefu-build-config"), one(docs, "Secret", "kefu-build-secret")
        for obj in (cm, secret):
            ann = obj["metadata"]["annotations"]
            assert ann["helm.sh/hook"] == hook
            assert int(ann["helm.sh/hook-weight"]) < int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
        assert cm["data"] == one(docs, "ConfigMap", "kefu-config")["data"]
        assert secret["data"] == one(docs, "Secret", "kefu-secret")["data"]
        refs = {next(iter(r.values()))["name"] for r in job["spec"]["template"]["spec"]["containers"][0]["envFrom"]}
        assert refs == {"kefu-build-config", "kefu-build-secret"}
    assert "Job" not in {d["kind"] for d in render("-f", str(CHART / "ci" / "proxy-llm-values.yaml"))}


@pytest.mark.parametrize("args", VARIANTS)
def test_models_come_from_a_per_pod_volume_never_read_write_many(args: tuple[str, ...]) -> None:
    docs = render(*args)
    text = json.dumps(docs)
    assert "ReadWriteMany" not in text
    for dep in by_kind(docs, "Deployment").values():
        component = dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        if component not in SERVICES:
            continue
        spec = dep["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert "emptyDir" in volumes["data"], component
        inits = {c["name"]: c for c in spec.get("initContainers", [])}
        needs_models = component in ("intent", "retrieval") or (
            component == "llm" and settings_of(docs).get("KEFU_LLM_UPSTREAM") is None)
        if needs_models:
            assert inits["build"]["command"][:4] == ["kefu", "build", "--only", component], component
        else:
            assert not inits, component
        for claim in (v.get("persistentVolumeClaim") for v in volumes.values()):
            if claim:
                assert claim["readOnly"] is True


def test_artifacts_sources() -> None:
    url = render("-f", str(ALL_OPTIONS))
    inits = one(url, "Deployment", "kefu-retrieval")["spec"]["template"]["spec"]["initContainers"]
    assert [c["name"] for c in inits] == ["fetch-artifacts", "build"]
    assert "KEFU_ARTIFACTS_URL" in inits[0]["command"][-1]
    assert settings_of(url)["KEFU_ARTIFACTS_URL"].startswith("https://objects.example.com/")
    assert "KEFU_ARTIFACTS_URL" not in one(url, "ConfigMap", "kefu-config")["data"]

    claim = render("-f", str(CHART / "ci" / "external-llm-values.yaml"))
    spec = one(claim, "Deployment", "kefu-intent")["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["copy-artifacts", "build"]
    src = next(v for v in spec["volumes"] if v["name"] == "artifacts-src")
    assert src["persistentVolumeClaim"] == {"claimName": "kefu-artifacts-rox", "readOnly": True}


# --- every setting reaches the pods -----------------------------------------------------------


def readme_settings() -> list[str]:
    """Every variable named in the first cell of a row of README.md's Configuration tables."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    names: list[str] = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first_cell = line.split("|")[1]
        names += re.findall(r"`((?:KEFU_[A-Z0-9_]+)|REDIS_URL|DATABASE_URL)`", first_cell)
    return names


def code_settings() -> set[str]:
    """Environment names of every field of every Settings class (kefu.settings and its subclasses)."""
    from kefu.settings import Settings

    services = (f"services.{p.parent.name}.config" for p in (ROOT / "services").glob("*/config.py"))
    for mod in ["gateway.config", *services]:
        importlib.import_module(mod)
    names: set[str] = set()
    todo: list[type] = [Settings]
    while todo:
        cls = todo.pop()
        todo += cls.__subclasses__()
        prefix = cls.model_config.get("env_prefix", "")
        for fname, field in cls.model_fields.items():
            alias = field.validation_alias
            choices = getattr(alias, "choices", [alias] if isinstance(alias, str) else [])
            env = [c for c in choices if isinstance(c, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", c)]
            names.update(env or [f"{prefix}{fname}".upper()])
    return names


def chart_setting_keys() -> set[str]:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    return set(values["config"]) | set(values["secrets"])


def test_readme_tables_are_parsed() -> None:
    names = readme_settings()
    assert len(names) >= 40 and {"REDIS_URL", "DATABASE_URL", "KEFU_LLM_URL", "KEFU_SHOP_LANG"} <= set(names)


@pytest.mark.parametrize("source", [readme_settings, code_settings], ids=["readme", "settings-classes"])
def test_every_setting_has_a_key_in_values(source: Callable[[], list[str] | set[str]]) -> None:
    missing = sorted(set(source()) - chart_setting_keys())
    assert not missing, f"settings the chart cannot set (add them to values.yaml config/secrets): {missing}"


def test_every_setting_set_in_values_reaches_configmap_or_secret(tmp_path: Path) -> None:
    names = sorted(set(readme_settings()) | code_settings() | chart_setting_keys())
    sentinel = {n: f"v-{n.lower()}" for n in names}
    config = {n: v for n, v in sentinel.items() if n not in SECRET_KEYS}
    secrets = {n: v for n, v in sentinel.items() if n in SECRET_KEYS}
    docs = render_values(tmp_path, {"config": config, "secrets": secrets})
    env = settings_of(docs)
    wrong = {n: env.get(n) for n in names if env.get(n) != sentinel[n]}
    assert not wrong, f"set in values but not rendered as given: {wrong}"
    configmap = one(docs, "ConfigMap", "kefu-config")["data"]
    assert not SECRET_KEYS & set(configmap), "credentials belong in the Secret"


def test_empty_values_leave_service_defaults_and_numbers_keep_their_digits() -> None:
    defaults = one(render(), "ConfigMap", "kefu-config")["data"]
    # Only chart-derived settings by default: everything else is the service's own default.
    assert not {"KEFU_RATE_LIMITS", "KEFU_LOG_LEVEL", "KEFU_APPROX_THRESHOLD"} & set(defaults)
    env = settings_of(render("-f", str(ALL_OPTIONS)))
    assert env["KEFU_APPROX_THRESHOLD"] == "1000000"  # not 1e+06
    assert env["KEFU_BUDGET_RESOLVE_S"] == "0.8"
    assert env["KEFU_RATE_LIMITS"] == "false"  # bare YAML off; kefu reads false as off
    assert env["KEFU_AGENT_KEY"] == "agent-key-from-values"
    assert env["REDIS_URL"] == "redis://:s3cret@redis-master.data.svc:6379/0"


def test_changed_settings_roll_the_pods(tmp_path: Path) -> None:
    def checksum(docs: list[dict]) -> str:
        return one(docs, "Deployment", "kefu-gateway")["spec"]["template"]["metadata"]["annotations"]["checksum/config"]

    base = checksum(render())
    assert checksum(render_values(tmp_path, {"config": {"KEFU_LOG_LEVEL": "DEBUG"}})) != base
    assert checksum(render("--set", "secrets.KEFU_AGENT_KEY=other")) != base


@pytest.mark.parametrize(("args", "message"), [
    (("--set", "services.llm.mode=external"), "services.llm.external.url is required"),
    (("--set", "services.llm.mode=proxy"), "services.llm.upstream.url is required"),
    (("--set", "services.llm.mode=gpt"), "services.llm.mode must be"),
    (("--set", "postgresql.bundled.enabled=false"), "no PostgreSQL"),
    (("--set", "redis.bundled.enabled=false"), "no Redis"),
    (("--set", "artifacts.source=claim"), "artifacts.claim is required"),
])
def test_bad_values_fail_with_a_clear_message(args: tuple[str, ...], message: str) -> None:
    out = helm_template(*args)
    assert out.returncode != 0 and message in out.stderr, out.stderr


def test_monitoring_objects_ship_the_repository_files() -> None:
    docs = render("-f", str(ALL_OPTIONS))
    rules = yaml.safe_load((ROOT / "deploy/prometheus/kefu-alerts.yaml").read_text())
    assert one(docs, "PrometheusRule", "kefu")["spec"]["groups"] == rules["groups"]
    dashboard = one(docs, "ConfigMap", "kefu-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["kefu-overview.json"]) == json.loads(
        (ROOT / "deploy/grafana/kefu-overview.json").read_text())
    monitors = by_kind(docs, "ServiceMonitor")
    assert set(monitors) == {f"kefu-{n}" for n in SERVICES}
    assert not {"ServiceMonitor", "PrometheusRule"} & {d["kind"] for d in render()}


def test_pods_run_unprivileged() -> None:
    for dep in by_kind(render(), "Deployment").values():
        spec = dep["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        for c in spec["containers"] + spec.get("initContainers", []):
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
