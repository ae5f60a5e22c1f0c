"""deploy/ without a Docker engine or a cluster: the compose file is parsed and schema-checked,
cross-checked against the code (commands, search attributes, metric names, mounted files),
and the Helm chart's templates are rendered and linted by Helm's own engine (helm-sdkpy)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from client.cli import cli
from workflows import search_attributes as sa

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CHART = DEPLOY / "helm" / "eventsync"
EVENTSYNC_SERVICES = {"worker", "receiver", "codec-server"}

# [HOST_IP:]PUBLISHED[:TARGET]: internal services publish on 127.0.0.1 only (docs/security.md).
_port = {
    "oneOf": [
        {"type": "string", "pattern": r"^((\d{1,3}\.){3}\d{1,3}:)?\d+(-\d+)?(:\d+(-\d+)?)?$"},
        {"type": "integer"},
    ]
}
# The part of the Compose Specification this stack uses, strictly: an unknown or misspelt key
# is an error here, where Docker would ignore some of them silently.
SERVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["image"],
    "additionalProperties": False,
    "properties": {
        "image": {"type": "string", "pattern": r"^[a-z0-9./_-]+:[A-Za-z0-9._-]+$"},
        "build": {
            "type": "object",
            "required": ["context", "dockerfile"],
            "properties": {"context": {"type": "string"}, "dockerfile": {"type": "string"}},
            "additionalProperties": False,
        },
        "restart": {"enum": ["no", "always", "on-failure", "unless-stopped"]},
        "command": {"type": "array", "items": {"type": "string"}},
        "entrypoint": {"type": "array", "items": {"type": "string"}},
        "env_file": {"type": "array", "items": {"type": "string"}},
        "environment": {"type": "object", "additionalProperties": {"type": "string"}},
        "volumes": {"type": "array", "items": {"type": "string", "pattern": r"^[^:]+:[^:]+(:ro)?$"}},
        "ports": {"type": "array", "items": _port},
        "depends_on": {
            "oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "required": ["condition"],
                        "properties": {
                            "condition": {
                                "enum": [
                                    "service_started",
                                    "service_healthy",
                                    "service_completed_successfully",
                                ]
                            }
                        },
                        "additionalProperties": False,
                    },
                },
            ]
        },
        "deploy": {
            "type": "object",
            "properties": {"replicas": {"type": "integer", "minimum": 1}},
            "additionalProperties": False,
        },
        "healthcheck": {
            "type": "object",
            "required": ["test"],
            "properties": {
                "test": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "interval": {"type": "string", "pattern": r"^\d+s$"},
                "timeout": {"type": "string", "pattern": r"^\d+s$"},
                "retries": {"type": "integer"},
            },
            "additionalProperties": False,
        },
    },
}
COMPOSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "services"],
    "patternProperties": {"^x-": {}},
    "properties": {
        "name": {"type": "string"},
        "services": {"type": "object", "additionalProperties": SERVICE_SCHEMA},
        "volumes": {"type": "object"},
    },
    "additionalProperties": False,
}


def load_yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_yaml(DEPLOY / "docker-compose.yml")  # type: ignore[no-any-return]


def test_compose_matches_schema(compose: dict[str, Any]) -> None:
    jsonschema.validate(compose, COMPOSE_SCHEMA)
    assert {
        "postgresql",
        "temporal",
        "setup",
        "temporal-ui",
        "worker",
        "receiver",
        "codec-server",
        "prometheus",
        "grafana",
    } <= set(compose["services"])


def test_compose_references_resolve(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in services.items():
        deps = svc.get("depends_on", {})
        for dep in deps:
            assert dep in services, f"{name} depends on unknown service {dep}"
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
        if "build" in svc:
            assert (DEPLOY / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file()
    assert services["temporal"]["environment"]["DB"] == "postgres12"  # Temporal on PostgreSQL
    assert services["setup"]["depends_on"]["temporal"]["condition"] == "service_healthy"


def test_eventsync_services_run_real_commands_scaled_out(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in EVENTSYNC_SERVICES:
        svc = services[name]
        assert svc["image"] == "eventsync:latest"
        assert svc["command"][0] in cli.commands, f"{name}: no such command `eventsync {svc['command'][0]}`"
        assert svc["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert svc["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["receiver"]["deploy"]["replicas"] >= 2
    env_example = (DEPLOY / ".env.example").read_text()
    for needed in ("EVENTSYNC_CODEC_KEYS", "EVENTSYNC_CODEC_TOKEN", "EVENTSYNC_WEBHOOK_SECRETS"):
        assert re.search(rf"^{needed}=", env_example, re.M), needed


def test_search_attribute_registration_matches_the_code() -> None:
    script = (DEPLOY / "register-search-attributes.sh").read_text()
    registered = dict(re.findall(r"^\s+(Eventsync\w+)=(\w+)", script, re.M))
    flags = sa.cli_flags()[1::2]
    assert registered == dict(f.split("=") for f in flags)
    assert (CHART / "files" / "register-search-attributes.sh").read_text() == script


def test_prometheus_and_grafana_provisioning() -> None:
    prom = load_yaml(DEPLOY / "prometheus" / "prometheus.yml")
    jobs = {job["job_name"] for job in prom["scrape_configs"]}
    assert {"eventsync-worker", "eventsync-receiver", "eventsync-codec-server"} <= jobs
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "eventsync.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    from eventsync import telemetry

    # Every metric a panel queries is one the code exports (OTel name → Prometheus name).
    suffix = {"counter": ["_total"], "gauge": [""], "histogram": ["_seconds_bucket", "_seconds_count"]}
    exported = {name.replace(".", "_") + s for name, kind in telemetry.METRICS.items() for s in suffix[kind]}
    for metric in set(re.findall(r"\beventsync_\w+", exprs)):
        assert metric in exported, f"dashboard queries {metric}, which eventsync does not export"


def test_dockerfile_is_slim_and_non_root() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert all(line.split()[1].endswith("-slim") for line in text.splitlines() if line.startswith("FROM "))
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and not users[-1].startswith(("0", "root"))
    assert 'ENTRYPOINT ["eventsync"]' in text


# --- Helm: the real Helm engine (Go, inside helm-sdkpy) renders and lints the templates. ---


def _lint(chart: Path) -> dict[str, Any]:
    helm = pytest.importorskip("helm_sdkpy", reason="scripts/test.sh installs helm-sdkpy")
    config = helm.Configuration(namespace="default", kubeconfig="/nonexistent")
    return asyncio.run(helm.Lint(config).run(str(chart)))  # type: ignore[no-any-return]


ERROR = 3  # helm's support.ErrorSev


def _variant(tmp_path: Path, **overrides: Any) -> Path:
    chart = tmp_path / "eventsync"
    shutil.copytree(CHART, chart)
    values = load_yaml(chart / "values.yaml")
    for dotted, value in overrides.items():
        node = values
        *parents, leaf = dotted.split("__")
        for p in parents:
            node = node[p]
        node[leaf] = value
    yaml = YAML()
    with (chart / "values.yaml").open("w") as f:
        yaml.dump(values, f)
    return chart


def test_helm_chart_renders_with_defaults() -> None:
    result = _lint(CHART)
    assert result["Errors"] is None, result
    assert not [m for m in result["Messages"] if m["Severity"] >= ERROR]


@pytest.mark.parametrize(
    "overrides",
    [
        {"worker__autoscaling__enabled": False},
        {"receiver__enabled": False, "codecServer__enabled": False},
        {"temporal__registerSearchAttributes": False},
        {"deliveryWorkers": [{"taskQueue": "eventsync-marketo"}, {"taskQueue": "eventsync-hubspot"}]},
    ],
)
def test_helm_chart_renders_variants(tmp_path: Path, overrides: dict[str, Any]) -> None:
    result = _lint(_variant(tmp_path, **overrides))
    assert result["Errors"] is None, result


def test_helm_lint_catches_a_broken_template(tmp_path: Path) -> None:
    chart = _variant(tmp_path)
    (chart / "templates" / "broken.yaml").write_text("kind: ConfigMap\nmetadata: {{ .Values.nope.deeper }}\n")
    assert _lint(chart)["Errors"], "helm lint should fail on a template that cannot render"


def test_helm_worker_has_hpa_and_chart_has_no_secret_values() -> None:
    hpa = (CHART / "templates" / "worker-hpa.yaml").read_text()
    assert "kind: HorizontalPodAutoscaler" in hpa and "autoscaling/v2" in hpa
    values = (CHART / "values.yaml").read_text()
    assert "existingSecret:" in values and "EVENTSYNC_CODEC_KEYS=" not in values


def test_only_the_receiver_is_published_beyond_loopback() -> None:
    compose = load_yaml(DEPLOY / "docker-compose.yml")
    public = {
        name: [p for p in svc.get("ports", []) if not str(p).startswith("127.0.0.1:")]
        for name, svc in compose["services"].items()
    }
    assert {name for name, ports in public.items() if ports} <= {"receiver"}, public
