"""docker-compose.yml: valid against the Compose Specification and consistent with the launcher."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from services.common.settings import DEFAULT_PORTS, SERVICE_NAMES
from services.launcher.settings import LauncherSettings
from services.launcher.supervisor import PROCESS_NAMES
from tests.deploy.manifests import (
    ROOT,
    compose,
    env_example,
    required_variables,
    settings_env_names,
)

SCHEMA = json.loads((ROOT / "deploy" / "schemas" / "compose-spec.json").read_text())
INFRA = ("consul", "envoy", "postgres", "redis", "otel-collector", "jaeger", "prometheus")


@pytest.fixture(scope="module")
def spec() -> dict:
    """The compose file as `docker compose config` would see it with .env.example."""
    return compose()


def test_compose_file_is_valid_against_the_compose_specification(spec):
    validator = jsonschema.Draft7Validator(SCHEMA)
    errors = sorted(validator.iter_errors(spec), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_rejects_a_broken_file(spec):
    # The check has teeth: a misspelt key and a wrong type are both refused.
    broken = json.loads(json.dumps(spec))
    broken["services"]["auth"]["helthcheck"] = broken["services"]["auth"].pop("healthcheck")
    broken["services"]["gateway"]["ports"] = "8000"
    assert len(list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))) >= 2


def test_required_secrets_come_from_env_example_and_missing_ones_fail():
    example = env_example()
    assert required_variables() <= set(example)
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        compose({k: v for k, v in example.items() if k != "POSTGRES_PASSWORD"})


def test_every_launcher_process_is_a_compose_service_with_the_same_port(spec):
    services = spec["services"]
    defaults = LauncherSettings.model_fields
    for name in PROCESS_NAMES:
        assert name in services, f"{name} missing from docker-compose.yml"
        env = services[name]["environment"]
        upper = name.upper()
        port = defaults["gateway_port"].default if name == "gateway" else DEFAULT_PORTS[name]
        assert env[f"MESHSERVE_{upper}_PORT"] == str(port)
        assert env[f"MESHSERVE_{upper}_HOST"] == "0.0.0.0"
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"127.0.0.1:{port}" in probe
        for other in SERVICE_NAMES:
            assert env[f"MESHSERVE_{other.upper()}_ADDRESS"] == f"{other}:{DEFAULT_PORTS[other]}"


def test_every_meshserve_variable_is_a_real_setting(spec):
    known = settings_env_names()
    for name, service in spec["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("MESHSERVE_"):
                assert variable in known, f"{name}: {variable} is read by no settings class"


def test_services_use_consul_discovery_metrics_and_traces(spec):
    for name in SERVICE_NAMES:
        env = spec["services"][name]["environment"]
        assert env["MESHSERVE_DISCOVERY"] == "consul"
        assert env["MESHSERVE_CONSUL_URL"] == "http://consul:8500"
        assert env[f"MESHSERVE_{name.upper()}_METRICS_PORT"] == "9100"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
        assert env["DATABASE_URL"].startswith("postgresql://")
    for name in (*SERVICE_NAMES, "gateway"):  # every replica's shared state: PostgreSQL and Redis
        service = spec["services"][name]
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0", name
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://"), name
        assert {"postgres", "redis"} <= set(service["depends_on"]), name


def test_health_checks_conditions_and_named_volumes(spec):
    services = spec["services"]
    for name in INFRA:
        assert name in services
    for name in (*PROCESS_NAMES, "consul", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if "healthcheck" in services[dependency]:
                assert rule["condition"] == "service_healthy", f"{name} -> {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in spec["volumes"], f"{name}: volume {source} not declared"
            else:
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"


def test_only_the_edge_is_published_beyond_loopback(spec):
    public = {
        name: port
        for name, service in spec["services"].items()
        for port in service.get("ports", [])
        if not str(port).startswith("127.0.0.1:")
    }
    assert public == {"envoy": "8080:8080"}


def test_gpu_profile_reserves_nvidia_devices_on_the_worker_image(spec):
    gpu = spec["services"]["inference-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert gpu["build"]["dockerfile"] == "deploy/docker/worker.Dockerfile"
    (device,) = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    # Without the profile nothing needs a GPU.
    for name, service in spec["services"].items():
        if "profiles" not in service:
            assert "deploy" not in service, name


def test_every_built_image_has_its_dockerfile(spec):
    for name, service in spec["services"].items():
        if "build" in service:
            assert (ROOT / service["build"]["dockerfile"]).is_file(), name
            assert re.fullmatch(r"meshserve/[a-z]+:\S+", service["image"]), name
