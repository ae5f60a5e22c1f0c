"""deploy/ without a Docker engine or a cluster: the compose file is parsed and schema-checked,
cross-checked against the code (commands, search attributes, metric names, mounted files),
and the Helm chart's templates are rendered and linted by Helm's own engine (helm-sdkpy)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from client.cli import cli
from workflows import search_attributes as sa

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "eventsync"
EVENTSYNC_SERVICES = {"worker", "receiver", "dashboard", "codec-server"}

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
        "temporal-schema",
        "temporal",
        "setup",
        "eventstore",
        "dashboard",
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
        for env_file in svc.get("env_file", []):
            # The filled-in file is git-ignored; its committed template must exist.
            assert (DEPLOY / f"{env_file}.example").is_file(), f"{name}: no {env_file}.example"
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
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", text, re.M)
    assert base, "the base image is one ARG, so scripts/pin-base-image.sh can pin it"
    assert base.group(1).split("@")[0].split(":")[1].split("-", 1)[1].startswith("slim")
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert froms and set(froms) == {"${PYTHON_IMAGE}"}
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
            node = node.setdefault(p, {})  # a key main's values lack: the assertions, not setup, fail
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
    assert "EVENTSYNC_CODEC_KEYS=" not in values
    assert not list((CHART / "templates").glob("*secret.yaml")), "the chart never creates a Secret"


# --- Compose: what is published, which passwords, which container sees which secret. ---


def test_compose_publishes_nothing_but_the_receiver(compose: dict[str, Any]) -> None:
    """Only the receiver's port is on every interface; what operators use (Web UI, dashboard,
    codec server, Prometheus, Grafana) is on 127.0.0.1; Temporal and the databases not at all."""
    services = compose["services"]
    public = {
        name: [p for p in svc.get("ports", []) if not str(p).startswith("127.0.0.1:")]
        for name, svc in services.items()
    }
    assert {name for name, ports in public.items() if ports} == {"receiver"}, public
    for name in ("temporal", "postgresql", "eventstore", "worker"):
        assert "ports" not in services[name], f"{name} must not be published"
    published = [str(p) for svc in services.values() for p in svc.get("ports", [])]
    assert not [p for p in published if re.search(r"(^|:)7233(:|$)", p)], "7233 is never published"


_REQUIRED = re.compile(r"^\$\{(\w+):\?[^}]*deploy/\.env[^}]*\}$")
_SECRET_NAME = re.compile(r"PASSWORD|PWD|SECRET|TOKEN")


def test_compose_has_no_default_passwords(compose: dict[str, Any]) -> None:
    """Every password is `${VAR:?set VAR in deploy/.env …}`: no default value, no fallback, and
    nothing starts without it; Grafana has no anonymous access."""
    text = (DEPLOY / "docker-compose.yml").read_text()
    assert not re.search(r"\$\{\w*(PASSWORD|PWD|SECRET|TOKEN)\w*:?-", text), "a secret with a default value"
    checked = 0
    for name, svc in compose["services"].items():
        for key, value in svc.get("environment", {}).items():
            if _SECRET_NAME.search(key):
                assert _REQUIRED.match(value), f"{name}: {key}={value!r} is not a required ${{VAR:?…}}"
                checked += 1
            if key == "EVENTSYNC_STORE":
                assert re.search(r":\$\{EVENTSTORE_DB_PASSWORD:\?[^}]+\}@", value), value
    assert checked >= 5  # Temporal's DB (3 services), the event store, Grafana
    grafana = compose["services"]["grafana"]["environment"]
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert _REQUIRED.match(grafana["GF_SECURITY_ADMIN_PASSWORD"])
    example = (DEPLOY / ".env.example").read_text()
    needed = set(re.findall(r"\$\{(\w+):\?", text))
    assert needed == set(re.findall(r"^(\w+)=$", example, re.M)), "deploy/.env.example names each, empty"


def test_compose_web_ui_is_read_only_by_default(compose: dict[str, Any]) -> None:
    ui = compose["services"]["temporal-ui"]["environment"]
    # The Temporal UI server's documented switch (docs.temporal.io, Web UI environment variables).
    value = ui["TEMPORAL_DISABLE_WRITE_ACTIONS"]
    assert value == "true" or re.fullmatch(r"\$\{\w+:-true\}", value), value


# What each service's env file may hold: its own secrets only. Keys set in the example (KEY=)
# must be exactly `required`; keys shown commented out (# KEY=) must match `optional`.
ENV_FILES: dict[str, dict[str, Any]] = {
    "receiver": {"required": {"EVENTSYNC_CODEC_KEYS", "EVENTSYNC_WEBHOOK_SECRETS"}, "optional": r"TEMPORAL_\w+"},
    "worker": {"required": {"EVENTSYNC_CODEC_KEYS"}, "optional": r"EVENTSYNC_SECRET_\w+|TEMPORAL_\w+"},
    "codec-server": {"required": {"EVENTSYNC_CODEC_KEYS", "EVENTSYNC_CODEC_TOKEN"}, "optional": r"(?!)"},
    "dashboard": {
        "required": {"EVENTSYNC_CODEC_KEYS", "EVENTSYNC_DASHBOARD_TOKEN"},
        "optional": r"TEMPORAL_\w+",
    },
}


def test_compose_one_env_file_per_service_with_only_its_keys(compose: dict[str, Any]) -> None:
    services = compose["services"]
    seen: dict[str, str] = {}
    for name, svc in services.items():
        for env_file in svc.get("env_file", []):
            assert env_file not in seen, f"{name} and {seen[env_file]} share {env_file}"
            assert env_file != ".env", f"{name}: deploy/.env is for substitution, never a container's"
            seen[env_file] = name
    for name, allowed in ENV_FILES.items():
        assert services[name]["env_file"] == [f"env/{name}.env"], name
        example = (DEPLOY / "env" / f"{name}.env.example").read_text()
        required = set(re.findall(r"^(\w+)=", example, re.M))
        assert required == allowed["required"], f"{name}.env holds {sorted(required)}"
        for key in re.findall(r"^#\s*(\w+)=", example, re.M):
            assert re.fullmatch(allowed["optional"], key), f"{name}.env.example suggests {key}"
    # The store's URL (with its password) only where events are read or written.
    with_store = {n for n, svc in services.items() if "EVENTSYNC_STORE" in svc.get("environment", {})}
    assert with_store == {"worker", "receiver", "dashboard"}
    assert services["receiver"]["environment"]["EVENTSYNC_DASHBOARD"] == "off"
    assert "--dashboard-only" in services["dashboard"]["command"]  # holds no webhook secret
    # The filled-in files never reach git.
    ignored = subprocess.run(
        ["git", "check-ignore", "deploy/.env", *(f"deploy/env/{n}.env" for n in ENV_FILES)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert len(ignored.stdout.split()) == 1 + len(ENV_FILES), ignored
    assert not (DEPLOY / ".env").exists() or ignored.returncode == 0


def test_compose_runs_supported_temporal_images_and_current_grafana(compose: dict[str, Any]) -> None:
    """temporalio/auto-setup is deprecated: temporalio/server, with the schema applied by a
    one-shot admin-tools service before it starts (Temporal's own compose samples)."""
    services = compose["services"]
    images = {name: svc["image"] for name, svc in services.items()}
    assert not [i for i in images.values() if "auto-setup" in i]
    assert images["temporal"].startswith("temporalio/server:")
    assert images["temporal-schema"].startswith("temporalio/admin-tools:")
    assert services["temporal"]["depends_on"]["temporal-schema"]["condition"] == "service_completed_successfully"
    schema = (DEPLOY / "temporal" / "setup-schema.sh").read_text()
    for step in ("setup-schema -v 0.0", "update-schema -d", "temporal_visibility"):
        assert step in schema
    assert "namespace create" in (DEPLOY / "temporal" / "create-namespace.sh").read_text()
    assert "create-namespace.sh" in " ".join(services["setup"]["entrypoint"])
    version = re.fullmatch(r"grafana/grafana:(\d+)\.(\d+)\.(\d+)", images["grafana"])
    assert version and int(version.group(1)) >= 12, f"Grafana pinned at a patch: {images['grafana']}"


# --- Docker build: hash-pinned lock files. ---


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 hashes) of a pip-compile --generate-hashes file."""
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=\S)", path.read_text()):
        head = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", block)
        if head:
            entries[_canonical(head.group(1))] = (head.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
    return entries


def test_lock_file_covers_every_pin_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lock = _lock(DEPLOY / "requirements.lock")
    assert lock and all(hashes for _, hashes in lock.values()), "every locked package has its hashes"
    pins = 0
    for spec in project["project"]["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[([^\]]+)\])?==(\S+)", spec.split(";")[0].strip())
        assert match, f"runtime dependency not pinned with ==: {spec}"
        name, _, version = match.groups()
        assert _canonical(name) in lock, f"{name} is not in deploy/requirements.lock"
        assert lock[_canonical(name)][0] == version, f"{name}: pyproject pins {version}, lock {lock[_canonical(name)][0]}"
        pins += 1
    assert pins == len(project["project"]["dependencies"])
    build = _lock(DEPLOY / "build-requirements.lock")
    assert {"setuptools", "wheel"} <= set(build) and all(h for _, h in build.values())
    setuptools = tuple(int(x) for x in build["setuptools"][0].split(".")[:1])
    assert (77,) <= setuptools < (85,), "the build lock satisfies build-system.requires"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    installs = re.findall(r"pip install ([^\n\\&]+)", dockerfile)
    assert any("--require-hashes --no-deps -r /locks/requirements.lock" in i for i in installs), installs
    assert any("--require-hashes --no-deps -r /locks/build-requirements.lock" in i for i in installs)
    # Everything else installs without the index (eventsync's own wheel, built here).
    for line in installs:
        assert "--require-hashes" in line or "--no-index" in line, f"unlocked install: {line}"


def test_base_image_digest_is_real_or_absent() -> None:
    """No invented digest: either the tag alone plus the script that pins it, or a full
    sha256 digest written by that script."""
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", (DEPLOY / "Dockerfile").read_text(), re.M)
    assert base
    if "@" in base.group(1):
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", base.group(1))
    script = (ROOT / "scripts" / "pin-base-image.sh").read_text()
    assert "docker buildx imagetools inspect" in script


# --- Helm, rendered: the manifests themselves, from Helm's engine. ---


def _render(tmp_path: Path, chart: Path = CHART) -> list[dict[str, Any]]:
    """The chart's manifests as Helm renders them. helm-sdkpy has no `helm template`, so each
    template of a copy becomes a named template and one extra template hands their output to
    `fail`; Helm's lint renders it and logs that message (on the process's stderr), which is
    read back here."""
    copy = tmp_path / "render" / "eventsync"
    shutil.copytree(chart, copy)
    names = []
    for template in sorted((copy / "templates").glob("*.yaml")):
        names.append(template.stem)
        wrapped = '{{- define "render/' + template.stem + '" -}}\n' + template.read_text() + "\n{{- end -}}\n"
        (copy / "templates" / f"_render_{template.stem}.tpl").write_text(wrapped)
        template.unlink()
    parts = " ".join(f'"---" (include "render/{n}" .)' for n in names)
    (copy / "templates" / "render.yaml").write_text(
        '{{- fail (printf "RENDER-BEGIN\\n%s\\nRENDER-END" (list ' + parts + ' | join "\\n")) }}\n'
    )
    with tempfile.TemporaryFile() as out:
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)
        try:
            _lint(copy)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        log = out.read().decode()
    quoted = re.search(r'message=("RENDER-BEGIN(?:[^"\\]|\\.)*")', log)
    assert quoted, f"no rendered output in Helm's log: {log[:2000]}"
    text = json.loads(quoted.group(1))
    docs = list(YAML(typ="safe").load_all(text.split("RENDER-BEGIN\n", 1)[1].rsplit("\nRENDER-END", 1)[0]))
    return [d for d in docs if d]


def _pods(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Pod specs of every Deployment and Job, by the pod's eventsync/role (or component) label."""
    pods = {}
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            labels = d["spec"]["template"].get("metadata", {}).get("labels", {})
            pods[d["metadata"]["name"]] = {"labels": labels, **d["spec"]["template"]["spec"]}
    return pods


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    pytest.importorskip("helm_sdkpy", reason="scripts/test.sh installs helm-sdkpy")
    chart = _variant(
        tmp_path_factory.mktemp("chart"),
        deliveryWorkers=[{"taskQueue": "eventsync-marketo"}],
        networkPolicy__egress__allow=[{"cidr": "192.0.2.0/24", "ports": [443]}, {"cidr": "198.51.100.7/32"}],
    )
    return _render(tmp_path_factory.mktemp("render"), chart)


def test_helm_every_pod_has_no_service_account_token(rendered: list[dict[str, Any]]) -> None:
    pods = _pods(rendered)
    assert len(pods) >= 6  # worker, delivery worker, receiver, dashboard, codec server, Job
    for name, pod in pods.items():
        assert pod.get("automountServiceAccountToken") is False, name
        assert pod["labels"].get("eventsync/role"), f"{name}: no role label for the NetworkPolicies"


OWN = "/etc/eventsync/secrets"
ROLE_FILES = {
    "receiver": {"EVENTSYNC_CODEC_KEYS_FILE", "EVENTSYNC_WEBHOOK_SECRETS_FILE", "EVENTSYNC_STORE_FILE"},
    "worker": {"EVENTSYNC_CODEC_KEYS_FILE", "EVENTSYNC_STORE_FILE"},
    "codec-server": {"EVENTSYNC_CODEC_KEYS_FILE", "EVENTSYNC_CODEC_TOKEN_FILE"},
    "dashboard": {"EVENTSYNC_CODEC_KEYS_FILE", "EVENTSYNC_STORE_FILE", "EVENTSYNC_DASHBOARD_TOKEN_FILE"},
}


def test_helm_one_secret_per_role_mounted_as_files(rendered: list[dict[str, Any]]) -> None:
    text = json.dumps(rendered)
    assert "envFrom" not in text and "secretKeyRef" not in text, "secrets only as files"
    owner: dict[str, str] = {}
    for name, pod in _pods(rendered).items():
        role = pod["labels"]["eventsync/role"]
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v}
        if role == "setup":
            assert not secrets, "the search-attribute Job needs no secret"
            continue
        (container,) = pod["containers"]
        env = {e["name"]: e["value"] for e in container["env"]}
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert {k for k in env if k.endswith("_FILE")} == ROLE_FILES[role], f"{name}: {sorted(env)}"
        for key in ROLE_FILES[role]:
            assert env[key].startswith(OWN + "/"), f"{name}: {key}={env[key]}"
            assert key[: -len("_FILE")] not in env, f"{name}: {key[:-5]} as a value"
        assert mounts["own-secrets"] == OWN
        own = secrets["own-secrets"]
        assert owner.setdefault(own, role) == role, f"Secret {own} shared by {owner[own]} and {role}"
        if role == "worker":
            # The connections' credentials: the one directory ${file:…} may read; the process's
            # own secrets are outside it.
            assert env["EVENTSYNC_SECRETS_DIR"] == mounts["connection-secrets"] == "/run/secrets/eventsync"
            assert not OWN.startswith(env["EVENTSYNC_SECRETS_DIR"])
        else:
            assert "connection-secrets" not in secrets and "EVENTSYNC_SECRETS_DIR" not in env, name
    assert set(owner.values()) == set(ROLE_FILES)
    receiver = next(p for p in _pods(rendered).values() if p["labels"]["eventsync/role"] == "receiver")
    assert {"name": "EVENTSYNC_DASHBOARD", "value": "off"} in receiver["containers"][0]["env"]
    dashboard = next(p for p in _pods(rendered).values() if p["labels"]["eventsync/role"] == "dashboard")
    assert "--dashboard-only" in dashboard["containers"][0]["args"]


def _policies(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == "NetworkPolicy"]


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    sel = policy["spec"]["podSelector"]
    if any(labels.get(k) != v for k, v in sel.get("matchLabels", {}).items()):
        return False
    return all(labels.get(e["key"]) in e["values"] for e in sel.get("matchExpressions", []))


def _egress(policies: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [r for p in policies if _selects(p, labels) and "Egress" in p["spec"]["policyTypes"]
            for r in p["spec"].get("egress", [])]


def test_helm_egress_is_default_deny_with_an_allow_list(rendered: list[dict[str, Any]]) -> None:
    policies = _policies(rendered)
    pods = _pods(rendered)
    deny = [p for p in policies if not p["spec"].get("egress") and not p["spec"].get("ingress")]
    assert deny and set(deny[0]["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    for name, pod in pods.items():
        assert _selects(deny[0], pod["labels"]), f"default deny does not cover {name}"

    def ports(rules: list[dict[str, Any]]) -> set[int]:
        return {p["port"] for r in rules for p in r.get("ports", [])}

    def cidrs(rules: list[dict[str, Any]]) -> set[str]:
        return {peer["ipBlock"]["cidr"] for r in rules for peer in r.get("to", []) if "ipBlock" in peer}

    by_role = {pod["labels"]["eventsync/role"]: pod["labels"] for pod in pods.values()}
    worker = _egress(policies, by_role["worker"])
    assert {53, 7233, 5432, 443} <= ports(worker)
    assert cidrs(worker) == {"192.0.2.0/24", "198.51.100.7/32"}
    for role in ("receiver", "dashboard"):
        assert ports(_egress(policies, by_role[role])) == {53, 7233, 5432} and not cidrs(_egress(policies, by_role[role]))
    assert ports(_egress(policies, by_role["codec-server"])) == {53}, "the codec server reaches nothing"
    assert ports(_egress(policies, by_role["setup"])) == {53, 7233}


def test_helm_ingress_only_the_receiver_from_outside(rendered: list[dict[str, Any]]) -> None:
    policies = _policies(rendered)
    open_to_all = [
        p for p in policies for r in p["spec"].get("ingress", []) if not r.get("from")
    ]
    assert len(open_to_all) == 1 and open_to_all[0]["spec"]["podSelector"]["matchLabels"]["eventsync/role"] == "receiver"
    for p in policies:
        for r in p["spec"].get("ingress", []):
            if r.get("from"):
                assert all("ipBlock" not in peer for peer in r["from"]), "internal peers only by default"


@pytest.mark.parametrize(
    "overrides",
    [
        {"networkPolicy__enabled": False},
        {"dashboard__enabled": False, "codecServer__enabled": False},
        {"secrets__connections": ""},
    ],
)
def test_helm_chart_renders_security_variants(tmp_path: Path, overrides: dict[str, Any]) -> None:
    docs = _render(tmp_path, _variant(tmp_path, **overrides))
    pods = _pods(docs)
    assert all(p.get("automountServiceAccountToken") is False for p in pods.values())
    if overrides.get("networkPolicy__enabled") is False:
        assert not _policies(docs)
    if overrides.get("secrets__connections") == "":
        worker = next(p for p in pods.values() if p["labels"]["eventsync/role"] == "worker")
        assert [v["name"] for v in worker["volumes"]] == ["definitions", "own-secrets"]
