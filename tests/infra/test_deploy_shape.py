"""The deployment files, read (Docker and Helm do not run here): infra/Dockerfile, infra/compose.yaml and
the chart in helm/wuye/.

The settings declare every environment variable they read (wuye.settings.env.DECLARED); these tests hold
the chart's values, its schema, the image and compose to that list, so a new variable cannot be added
without being deployable, and a misspelt one in the deployment files is caught.

Helm templates cannot be rendered here. `chart_documents` turns a template into YAML by dropping the lines
that hold only template actions (`{{- if }}`, `{{- include ... | nindent }}`) and replacing the other actions
by a marker `<<...>>` that keeps their text (`<<include 'wuye.fullname' .>>-web`), then parses it: the
structure the templates always produce (kinds, commands, probes, envFrom, hook annotations) is checked on
that.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
CHART = REPO / "helm" / "wuye"
TEMPLATES = CHART / "templates"

# Environment variables the deployment files set that are not settings: gunicorn's and the image's own.
NOT_SETTINGS = frozenset(
    {
        "PATH",
        "VIRTUAL_ENV",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "HOME",
        "PORT",
        "WEB_CONCURRENCY",
        "GUNICORN_THREADS",
        "FORWARDED_ALLOW_IPS",
    }
)
HOOK = "helm.sh/hook"
HOOK_WEIGHT = "helm.sh/hook-weight"
HOOK_DELETE_POLICY = "helm.sh/hook-delete-policy"


# ------------------------------------------------------------------------------------------- the settings
def _settings_in_subprocess(environ: dict[str, str]) -> dict[str, bool]:
    """Import wuye.settings in a fresh interpreter with exactly the settings variables in `environ`;
    return what it declared (name -> secret). Fails the test with the error if the settings refuse it."""
    from wuye.settings import env as settings_env

    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in settings_env.DECLARED and key not in {"DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST"}
    }
    clean.update(environ)
    clean["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "platform")])
    script = (
        "import json, wuye.settings\n"
        "from wuye.settings import env\n"
        "print(json.dumps({name: var.secret for name, var in env.DECLARED.items()}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=clean, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"the settings refused {sorted(environ)}:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def _production_secret_key() -> str:
    return secrets.token_urlsafe(48)


def _production_secrets() -> dict[str, str]:
    """The secrets production refuses to start without (the development defaults are refused too)."""
    from cryptography.fernet import Fernet

    return {
        "WUYE_SECRET_KEY": _production_secret_key(),
        "WUYE_FIELD_KEYS": Fernet.generate_key().decode(),
        "WUYE_BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }


@pytest.fixture(scope="module")
def declared() -> dict[str, bool]:
    """Every variable the settings read in ANY environment (some, like WUYE_SSL_REDIRECT, only in
    production), name -> secret."""
    import wuye.settings  # noqa: F401  (fills DECLARED for this process's environment)
    from wuye.settings import env as settings_env

    names = {name: var.secret for name, var in settings_env.DECLARED.items()}
    for environment in settings_env.ENVIRONMENTS:
        extra = _production_secrets() if environment == "production" else {}
        names.update(_settings_in_subprocess({"WUYE_ENV": environment, **extra}))
    assert names, "the settings declared no variable at all"
    return names


# ------------------------------------------------------------------------------------------- chart files
@pytest.fixture(scope="module")
def values() -> dict[str, Any]:
    return yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    loaded = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
    jsonschema.validators.validator_for(loaded).check_schema(loaded)
    return loaded


_ACTION = re.compile(r"\{\{-?(.*?)-?\}\}")


def _marker(match: re.Match[str]) -> str:
    inner = " ".join(match.group(1).split())
    return "<<" + inner.replace('"', "'") + ">>"


def chart_documents(name: str) -> list[dict[str, Any]]:
    """The YAML documents of a template with its actions dropped or marked (see the module's docstring)."""
    lines = []
    for line in (TEMPLATES / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not _ACTION.sub("", line).strip():
            continue
        lines.append(_ACTION.sub(_marker, line))
    text = "\n".join(lines)
    assert "{{" not in text and "}}" not in text, f"{name}: a template action spans lines"
    return [doc for doc in yaml.safe_load_all(text) if doc]


def all_chart_documents() -> list[dict[str, Any]]:
    return [doc for path in sorted(TEMPLATES.glob("*.yaml")) for doc in chart_documents(path.name)]


def find(kind: str, name_suffix: str) -> dict[str, Any]:
    """The object of `kind` whose name is the release's name plus `name_suffix` ("" for the bare name)."""
    wanted = "<<include 'wuye.fullname' .>>" + name_suffix
    found = [doc for doc in all_chart_documents() if doc.get("kind") == kind and doc["metadata"]["name"] == wanted]
    assert len(found) == 1, f"expected one {kind} named {wanted!r}, found {len(found)}"
    return found[0]


def only_container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, containers
    return containers[0]


def template_text(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def helper_body(name: str) -> str:
    text = template_text("_helpers.tpl")
    match = re.search(r'\{\{-? define "' + re.escape(name) + r'" -?\}\}(.*?)\{\{-? end \}\}\n\n', text + "\n\n", re.S)
    assert match, f"_helpers.tpl defines no {name}"
    return match.group(1)


# ------------------------------------------------------------------------------------------- the schema
def test_default_values_validate_against_the_schema(values: dict[str, Any], schema: dict[str, Any]) -> None:
    assert schema.get("additionalProperties") is False, "the schema must refuse unknown top-level keys"
    jsonschema.validate(values, schema)


def _broken(values: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(values)
    target = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("web", "replicas"), "three", id="replicas-not-a-number"),
        pytest.param(("replicaCount",), 3, id="unknown-top-level-key"),
        pytest.param(("env", "WUYE_BASE_DOMIAN"), "wuye.example.com", id="misspelt-setting"),
        pytest.param(("secretEnv", "WUYE_ENV"), "production", id="plain-setting-in-secretEnv"),
        pytest.param(("env", "WUYE_SECRET_KEY"), "x" * 60, id="secret-in-env"),
        # Settings are strings: Helm turns big numbers into floats (3.1536e+07).
        pytest.param(("env", "WUYE_HSTS_SECONDS"), 31536000, id="setting-not-a-string"),
        pytest.param(("beat", "replicas"), 2, id="beat-replicas"),
        pytest.param(("podSecurityContext", "runAsNonRoot"), False, id="root"),
        pytest.param(("ingress", "enabled"), "yes", id="ingress-enabled-not-boolean"),
        pytest.param(("web", "resources"), {"limits": {"memory": "lots"}}, id="bad-quantity"),
        pytest.param(("image",), {"repository": "wuye"}, id="image-incomplete"),
    ],
)
def test_schema_refuses_broken_values(
    values: dict[str, Any], schema: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_broken(values, path, value), schema)


def test_schema_lists_exactly_the_declared_variables(schema: dict[str, Any], declared: dict[str, bool]) -> None:
    for section, secret in (("env", False), ("secretEnv", True)):
        part = schema["properties"][section]
        assert part.get("additionalProperties") is False, f"schema: {section} must refuse unknown names"
        expected = {name for name, is_secret in declared.items() if is_secret is secret}
        assert set(part["properties"]) == expected, (
            f"schema {section}: missing {sorted(expected - set(part['properties']))}, "
            f"not settings {sorted(set(part['properties']) - expected)}"
        )


# ------------------------------------------------------------------------------------------- the settings
def test_every_declared_variable_can_be_set_from_values(values: dict[str, Any], declared: dict[str, bool]) -> None:
    plain, secret = values["env"], values["secretEnv"]
    missing = [name for name, is_secret in declared.items() if name not in (secret if is_secret else plain)]
    assert not missing, f"values.yaml cannot set {missing} (secrets under secretEnv, the rest under env)"
    misplaced = [name for name, is_secret in declared.items() if name in (plain if is_secret else secret)]
    assert not misplaced, f"{misplaced}: secrets belong under secretEnv only, plain settings under env only"
    assert all(isinstance(value, str) for value in {**plain, **secret}.values()), "settings values are strings"


def test_values_name_no_undeclared_variable(values: dict[str, Any], declared: dict[str, bool]) -> None:
    unknown = sorted((set(values["env"]) | set(values["secretEnv"])) - set(declared))
    assert not unknown, f"values.yaml names variables the settings never read: {unknown}"
    assert not values["extraEnv"], "extraEnv is for the operator's additions; the chart's defaults leave it empty"


def test_values_default_to_production(values: dict[str, Any]) -> None:
    assert values["env"]["WUYE_ENV"] == "production"
    assert values["env"]["WUYE_BASE_DOMAIN"], "the Ingress needs a base domain"
    assert not any(values["secretEnv"].values()), "the chart ships no secret"
    assert values["podSecurityContext"]["runAsNonRoot"] is True


def test_the_settings_accept_the_chart_defaults_in_a_pod(values: dict[str, Any]) -> None:
    """What a pod sees: the image's ENV, then the ConfigMap (non-empty values) and the Secret."""
    environ = {name: value for name, value in dockerfile_env().items() if name not in NOT_SETTINGS}
    environ.update({name: value for name, value in values["env"].items() if value})
    environ.update(
        **_production_secrets(),
        DATABASE_URL="postgresql://wuye:secret@postgres.example:5432/wuye",
        REDIS_URL="redis://redis.example:6379/0",
    )
    assert environ["WUYE_ENV"] == "production"
    _settings_in_subprocess(environ)


def test_settings_reach_every_workload_through_configmap_and_secret() -> None:
    config_data = helper_body("wuye.configData")
    secret_data = helper_body("wuye.secretData")
    assert re.search(r"range \$name, \$value := \.Values\.env \}\}", config_data), "ConfigMap data is values.env"
    assert re.search(r"range \$name, \$value := \.Values\.secretEnv \}\}", secret_data), "Secret data is secretEnv"

    config_map = find("ConfigMap", "-config")
    assert 'include "wuye.configData"' in template_text("configmap.yaml")
    secret = next(doc for doc in chart_documents("secret.yaml") if doc["kind"] == "Secret")
    assert 'include "wuye.secretData"' in template_text("secret.yaml")
    migrate_config = find("ConfigMap", "-migrate-config")
    migrate_secret = next(doc for doc in chart_documents("migrate-job.yaml") if doc["kind"] == "Secret")
    assert template_text("migrate-job.yaml").count('include "wuye.configData"') == 1
    assert template_text("migrate-job.yaml").count('include "wuye.secretData"') == 1

    workloads = {
        "web": (find("Deployment", "-web"), config_map, secret),
        "worker": (find("Deployment", "-worker"), config_map, secret),
        "beat": (find("Deployment", "-beat"), config_map, secret),
        "migrate": (find("Job", "-migrate"), migrate_config, migrate_secret),
    }
    for component, (workload, wanted_config, wanted_secret) in workloads.items():
        sources = only_container(workload)["envFrom"]
        config_refs = [source["configMapRef"]["name"] for source in sources if "configMapRef" in source]
        secret_refs = [source["secretRef"]["name"] for source in sources if "secretRef" in source]
        assert config_refs == [wanted_config["metadata"]["name"]], f"{component} does not read its ConfigMap"
        assert secret_refs == [wanted_secret["metadata"]["name"]], f"{component} does not read its Secret"
    # With existingSecret, every workload reads that Secret instead of the chart's.
    for helper in ("wuye.secretName", "wuye.migrateSecretName"):
        assert helper_body(helper).strip().startswith("{{- .Values.existingSecret | default")


# ------------------------------------------------------------------------------------------- the workloads
def test_web_serves_port_8000_with_health_probes() -> None:
    web = find("Deployment", "-web")
    assert web["spec"]["replicas"] == "<<.Values.web.replicas>>"
    container = only_container(web)
    assert "command" not in container and "args" not in container, "web runs the image's gunicorn command"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports == {"http": 8000}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env == {
        "WEB_CONCURRENCY": "<<.Values.web.workers | quote>>",
        "GUNICORN_THREADS": "<<.Values.web.threads | quote>>",
    }


def test_worker_and_beat_run_celery() -> None:
    worker = only_container(find("Deployment", "-worker"))
    assert worker["command"][:4] == ["celery", "-A", "wuye.celery", "worker"]
    beat_deployment = find("Deployment", "-beat")
    beat = only_container(beat_deployment)
    assert beat["command"][:4] == ["celery", "-A", "wuye.celery", "beat"]
    # One beat, whatever the values say, and never two during a rollout.
    assert beat_deployment["spec"]["replicas"] == 1
    assert beat_deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert ".Values.beat.replicas" not in template_text("deployment-beat.yaml")


def test_every_pod_runs_as_non_root_with_the_chart_security_context() -> None:
    for workload in (
        find("Deployment", "-web"),
        find("Deployment", "-worker"),
        find("Deployment", "-beat"),
        find("Job", "-migrate"),
    ):
        name = workload["metadata"]["name"]
        assert "securityContext" in workload["spec"]["template"]["spec"], f"{name}: no pod securityContext"
        assert "securityContext" in only_container(workload), f"{name}: no container securityContext"
    for name in ("deployment-web.yaml", "deployment-worker.yaml", "deployment-beat.yaml", "migrate-job.yaml"):
        text = template_text(name)
        assert "toYaml .Values.podSecurityContext" in text and "toYaml .Values.securityContext" in text, name


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook() -> None:
    job = find("Job", "-migrate")
    annotations = job["metadata"]["annotations"]
    assert set(annotations[HOOK].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations[HOOK_DELETE_POLICY].split(",")
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    command = " ".join(only_container(job)["command"])
    assert re.search(r"(^|[\s'\"])wuye migrate --noinput\b", command), command
    assert "wuye pool refill" in command
    # The ConfigMap and Secret it reads are hooks of the same events, made before it (lower weight).
    for doc in chart_documents("migrate-job.yaml"):
        if doc["kind"] in {"ConfigMap", "Secret"}:
            hook = doc["metadata"]["annotations"]
            assert set(hook[HOOK].split(",")) == {"pre-install", "pre-upgrade"}, doc["kind"]
            assert int(hook[HOOK_WEIGHT]) < int(annotations[HOOK_WEIGHT]), doc["kind"]


def test_service_and_ingress_route_the_base_domain_and_its_wildcard() -> None:
    service = find("Service", "")
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "web"
    web_pod = find("Deployment", "-web")["spec"]["template"]["metadata"]["labels"]
    assert web_pod["app.kubernetes.io/component"] == "web"
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] == "http"

    text = template_text("ingress.yaml")
    base = re.search(r"\$base := required .*?\.Values\.env\.WUYE_BASE_DOMAIN \}\}", text)
    assert base, "the Ingress host must come from env.WUYE_BASE_DOMAIN, the domain the settings use"
    assert re.search(r'\$hosts := list \$base \(printf "\*\.%s" \$base\)', text), "base domain and wildcard"
    assert re.search(r"range \.Values\.ingress\.extraHosts \}\}\s*\{\{- \$hosts = append \$hosts \. \}\}", text)

    (ingress,) = [doc for doc in chart_documents("ingress.yaml") if doc["kind"] == "Ingress"]
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    (rule,) = ingress["spec"]["rules"]  # one rule, repeated by `range $host := $hosts`
    assert rule["host"] == "<<$host | quote>>"
    assert "range $host := $hosts" in text
    (path,) = rule["http"]["paths"]
    assert path["path"] == "/" and path["pathType"] == "Prefix"
    backend = path["backend"]["service"]
    assert "wuye.fullname" in text and backend["port"] == {"name": service_port["name"]}
    (tls,) = ingress["spec"]["tls"]
    assert tls["hosts"] == ["<<$base | quote>>", "<<printf '*.%s' $base | quote>>"]


def test_chart_metadata() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
    assert chart["apiVersion"] == "v2" and chart["name"] == "wuye" and chart["type"] == "application"
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # The image tag defaults to appVersion: it follows the application's version.
    assert chart["appVersion"] == project["version"]


# ------------------------------------------------------------------------------------------- the image
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for raw in (INFRA / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        keyword, _, arguments = (current + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(arguments.split())))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return instructions


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for keyword, arguments in dockerfile_instructions():
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, arguments))
    return stages


def dockerfile_env() -> dict[str, str]:
    """The runtime stage's ENV (the image's defaults)."""
    environ: dict[str, str] = {}
    for keyword, arguments in dockerfile_stages()[-1]:
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                environ[name] = value
    return environ


def test_dockerfile_is_multi_stage_and_runs_gunicorn_as_non_root(values: dict[str, Any]) -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: a builder and a slim runtime"
    builder, runtime = stages[0], stages[-1]
    assert re.search(r"\bAS builder$", builder[0][1], re.I)
    assert any(k == "COPY" and a.startswith("--from=builder /opt/venv") for k, a in runtime), "the venv"

    users = [arguments for keyword, arguments in runtime if keyword == "USER"]
    assert users, "the runtime stage sets no USER (it would run as root)"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, f"USER {users[-1]}: numeric and not root (runAsNonRoot checks it)"
    assert values["podSecurityContext"]["runAsUser"] == int(user), "the chart runs the image's user"

    builder_runs = " ;; ".join(arguments for keyword, arguments in builder if keyword == "RUN")
    assert re.search(r"pip install (--\S+ )*--require-hashes (--\S+ )*-r \S*requirements/prod\.lock", builder_runs)
    assert "compiletranslations" in builder_runs and "collectstatic --noinput" in builder_runs

    (cmd,) = [arguments for keyword, arguments in runtime if keyword == "CMD"]
    command = " ".join(json.loads(cmd))
    assert re.search(r"\bgunicorn wuye\.wsgi:application\b", command), command
    assert any(k == "EXPOSE" and a.split() == ["8000"] for k, a in runtime)
    assert any(k == "HEALTHCHECK" and "/healthz" in a for k, a in runtime)


def test_static_files_are_collected_where_the_runtime_serves_them() -> None:
    stages = dockerfile_stages()
    builder_runs = " ".join(arguments for keyword, arguments in stages[0] if keyword == "RUN")
    collected = re.search(r"WUYE_STATIC_ROOT=(\S+)", builder_runs)
    assert collected, "collectstatic must say where (WUYE_STATIC_ROOT)"
    served = dockerfile_env()["WUYE_STATIC_ROOT"]
    assert served == collected.group(1)
    assert any(k == "COPY" and a == f"--from=builder {served} {served}" for k, a in stages[-1])


def test_dockerfile_env_names_only_settings_variables(declared: dict[str, bool]) -> None:
    unknown = sorted(set(dockerfile_env()) - set(declared) - NOT_SETTINGS)
    assert not unknown, f"the image sets variables the settings never read: {unknown}"
    assert not {name for name in dockerfile_env() if declared.get(name)}, "no secret baked into the image"
    assert dockerfile_env()["WUYE_ENV"] == "production"


# ------------------------------------------------------------------------------------------- compose
_INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?]([^}]*))?\}")


def _with_defaults(value: Any) -> str:
    """A compose value as `docker compose` sees it with nothing exported: `${NAME:-default}` -> default."""
    return _INTERPOLATION.sub(lambda match: match.group(2) or "", str(value))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((INFRA / "compose.yaml").read_text(encoding="utf-8"))


APP_SERVICES = ("migrate", "web", "worker", "beat")


def test_compose_has_the_services_of_make_dev(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", *APP_SERVICES} <= set(services)
    assert _with_defaults(services["postgres"]["image"]).startswith("postgres:16")
    assert _with_defaults(services["redis"]["image"]).startswith("redis:7")
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], f"{name} needs a health check for depends_on"
    for name in APP_SERVICES:
        build = services[name]["build"]
        assert (build["context"], build["dockerfile"]) == ("..", "infra/Dockerfile"), name

    def command(name: str) -> str:
        value = services[name].get("command", "")
        return " ".join(value) if isinstance(value, list) else value

    assert re.search(r"\bwuye migrate --noinput\b", command("migrate"))
    assert "wuye pool refill" in command("migrate")
    assert not command("web"), "web runs the image's gunicorn command"
    assert command("worker").startswith("celery -A wuye.celery worker")
    assert command("beat").startswith("celery -A wuye.celery beat")


def test_compose_starts_the_app_after_healthy_servers_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name
    for name in ("migrate", "worker", "beat"):
        assert services[name]["healthcheck"] == {"disable": True}, f"{name} serves no /healthz"


def test_compose_environment_is_settings_the_production_settings_accept(
    compose: dict[str, Any], declared: dict[str, bool]
) -> None:
    for name in APP_SERVICES:
        environ = {key: _with_defaults(value) for key, value in compose["services"][name]["environment"].items()}
        unknown = sorted(set(environ) - set(declared) - NOT_SETTINGS)
        assert not unknown, f"compose {name} sets variables the settings never read: {unknown}"
        for required in (
            "DATABASE_URL",
            "REDIS_URL",
            "WUYE_SECRET_KEY",
            "WUYE_FIELD_KEYS",
            "WUYE_BLIND_INDEX_KEY",
            "WUYE_BASE_DOMAIN",
        ):
            assert environ.get(required), f"compose {name}: {required}"
        assert environ["DATABASE_URL"].startswith("postgresql://") and "@postgres:5432/" in environ["DATABASE_URL"]
        assert environ["REDIS_URL"].startswith("redis://redis:6379/")
    web = {key: _with_defaults(value) for key, value in compose["services"]["web"]["environment"].items()}
    image_env = {name: value for name, value in dockerfile_env().items() if name not in NOT_SETTINGS}
    _settings_in_subprocess({**image_env, **{k: v for k, v in web.items() if k not in NOT_SETTINGS}})
