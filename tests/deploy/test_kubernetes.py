"""Kubernetes: every overlay renders, validates against Kubernetes schemas, and matches the launcher."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from services.common.settings import DEFAULT_PORTS, SERVICE_NAMES
from services.launcher.supervisor import PROCESS_NAMES
from tests.deploy.kustomize import render, render_kubectl, render_lite
from tests.deploy.manifests import ROOT, settings_env_names

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = sorted(p for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").is_file())
#: A Kubernetes release the manifests must validate against (kubernetes-validate ships its schemas).
KUBERNETES_VERSION = "1.34"


@pytest.fixture(scope="module", params=OVERLAYS, ids=lambda p: p.name)
def overlay(request) -> tuple[str, list[dict]]:
    """(overlay name, rendered objects)."""
    return request.param.name, render(request.param)


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    """Objects of one kind by name."""
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_overlays_dev_and_gpu_exist():
    assert {p.name for p in OVERLAYS} == {"dev", "gpu"}


def assert_valid(objects: list[dict], path: Path) -> None:
    """``kubernetes-validate --strict`` accepts the objects (written to ``path``)."""
    path.write_text(yaml.safe_dump_all(objects))
    validator = str(Path(sys.executable).with_name("kubernetes-validate"))
    result = subprocess.run(
        [validator, "--strict", "--quiet", "-k", KUBERNETES_VERSION, str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_rendered_manifests_validate_against_kubernetes_schemas(overlay, tmp_path):
    name, objects = overlay
    assert_valid(objects, tmp_path / f"{name}.yaml")


def test_every_launcher_process_is_deployed_with_the_same_port_and_env_names(overlay):
    _, objects = overlay
    deployments, services = by_kind(objects, "Deployment"), by_kind(objects, "Service")
    known = settings_env_names()
    config = by_kind(objects, "ConfigMap")["meshserve-config"]["data"]
    for name in PROCESS_NAMES:
        port = 8000 if name == "gateway" else DEFAULT_PORTS[name]
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        assert env[f"MESHSERVE_{name.upper()}_PORT"] == str(port)
        assert env[f"MESHSERVE_{name.upper()}_HOST"] == "0.0.0.0"
        assert port in [p["containerPort"] for p in container["ports"]]
        assert services[name]["spec"]["ports"][0]["port"] == port
        for variable in [*env, *config]:
            if variable.startswith("MESHSERVE_"):
                assert variable in known, f"{name}: {variable} is read by no settings class"
    for name in SERVICE_NAMES:
        assert config[f"MESHSERVE_{name.upper()}_ADDRESS"] == f"{name}:{DEFAULT_PORTS[name]}"
    assert config["MESHSERVE_DISCOVERY"] == "kubernetes"


def test_probes_resources_and_headless_services(overlay):
    _, objects = overlay
    deployments, services = by_kind(objects, "Deployment"), by_kind(objects, "Service")
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert probe in container, f"{name}: {probe}"
            if name in SERVICE_NAMES:
                assert container[probe]["grpc"]["port"] == DEFAULT_PORTS[name]
                # Liveness is "the process answers"; readiness (the default name) "it can serve".
                liveness = probe != "readinessProbe"
                assert container[probe]["grpc"].get("service") == ("meshserve.liveness" if liveness else None)
            else:
                path = container[probe]["httpGet"]["path"]
                assert path == ("/v2/health/ready" if probe == "readinessProbe" else "/v2/health/live")
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert pod["securityContext"]["runAsNonRoot"] is True
    for name in SERVICE_NAMES:
        # gRPC balances per call only when DNS returns every pod: headless Services.
        assert services[name]["spec"]["clusterIP"] == "None"
    assert services["gateway"]["spec"].get("clusterIP") != "None"


def test_gateway_scales_and_every_deployment_has_a_disruption_budget(overlay):
    _, objects = overlay
    hpa = by_kind(objects, "HorizontalPodAutoscaler")["gateway"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "gateway" and hpa["spec"]["maxReplicas"] > 1
    assert set(by_kind(objects, "PodDisruptionBudget")) == set(by_kind(objects, "Deployment"))


def test_network_policies_expose_only_the_gateway(overlay):
    _, objects = overlay
    policies = by_kind(objects, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and "ingress" not in deny
    open_policies = [
        p for p in policies.values() for rule in p["spec"].get("ingress", []) if "from" not in rule
    ]
    assert [p["metadata"]["name"] for p in open_policies] == ["gateway-from-anywhere"]
    assert open_policies[0]["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "gateway"}
    mesh = policies["services-from-mesh"]["spec"]
    allowed_ports = {p["port"] for p in mesh["ingress"][0]["ports"]}
    assert allowed_ports == set(DEFAULT_PORTS.values())
    labels = mesh["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    for deployment in by_kind(objects, "Deployment").values():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels.items() <= pod_labels.items()  # every meshserve pod may call the services


def test_autoscaler_rbac_is_least_privilege(overlay):
    _, objects = overlay
    role = by_kind(objects, "Role")["meshserve-autoscaler"]
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"])): set(r["verbs"]) for r in role["rules"]}
    assert rules == {
        (("apps",), ("deployments",)): {"get", "list", "watch"},
        (("apps",), ("deployments/scale",)): {"get", "update", "patch"},
    }
    assert not by_kind(objects, "ClusterRole") and not by_kind(objects, "ClusterRoleBinding")
    binding = by_kind(objects, "RoleBinding")["meshserve-autoscaler"]
    assert binding["subjects"][0]["name"] == "meshserve-autoscaler"
    deployments = by_kind(objects, "Deployment")
    accounts = {"autoscaler": "meshserve-autoscaler", "inference": "meshserve-inference"}
    for name, deployment in deployments.items():
        account = deployment["spec"]["template"]["spec"]["serviceAccountName"]
        assert account == accounts.get(name, "meshserve")
    role = by_kind(objects, "Role")["meshserve-inference"]  # the fine-tuning driver: Jobs and pods only
    rules = {(tuple(r["apiGroups"]), tuple(r["resources"])): set(r["verbs"]) for r in role["rules"]}
    assert rules == {
        (("batch",), ("jobs",)): {"create", "get", "list", "delete"},
        (("",), ("pods",)): {"get", "list"},
        (("",), ("pods/log",)): {"get"},
    }


def test_autoscaler_scales_a_deployment_that_exists_in_its_own_namespace(overlay):
    """The Kubernetes driver's pool target is a rendered Deployment, in the namespace its Role
    covers (the settings' defaults, ``default`` and ``meshserve-worker``, would be neither)."""
    _, objects = overlay
    deployments = by_kind(objects, "Deployment")
    container = deployments["autoscaler"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["MESHSERVE_AUTOSCALER_DRIVER"]["value"] == "kubernetes"
    namespace = env["MESHSERVE_AUTOSCALER_KUBERNETES_NAMESPACE"]["valueFrom"]["fieldRef"]
    assert namespace["fieldPath"] == "metadata.namespace"
    pool = env["MESHSERVE_AUTOSCALER_KUBERNETES_POOL_DEPLOYMENT"]["value"]
    assert pool in deployments
    role = by_kind(objects, "Role")["meshserve-autoscaler"]
    assert role["metadata"].get("namespace") == deployments[pool]["metadata"].get("namespace")


def test_gpu_overlay_puts_inference_on_gpu_nodes_and_dev_needs_none():
    gpu = by_kind(render(K8S / "overlays" / "gpu"), "Deployment")["inference"]["spec"]["template"]["spec"]
    container = gpu["containers"][0]
    assert container["image"].startswith("meshserve/worker:")
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert any(t["key"] == "nvidia.com/gpu" for t in gpu["tolerations"])
    for deployment in by_kind(render(K8S / "overlays" / "dev"), "Deployment").values():
        limits = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        assert "nvidia.com/gpu" not in limits


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed: nothing to compare with")
@pytest.mark.parametrize("path", OVERLAYS, ids=lambda p: p.name)
def test_python_renderer_agrees_with_kubectl_kustomize(path):
    def keyed(objects: list[dict]) -> dict:
        return {(o["kind"], o["metadata"]["name"]): o for o in objects}

    assert keyed(render_lite(path)) == keyed(render_kubectl(path))


def test_the_base_runs_replicas_over_shared_postgres_and_redis():
    """Two or more gateway, inference and registry pods, every process reading DATABASE_URL and
    REDIS_URL from the Secret, and the registry's blobs on a volume every pod can mount."""
    objects = render(K8S / "base")
    deployments = by_kind(objects, "Deployment")
    for name in ("gateway", "inference", "registry"):
        assert deployments[name]["spec"]["replicas"] >= 2, name
    secret = by_kind(objects, "Secret")["meshserve-secrets"]["stringData"]
    assert secret["DATABASE_URL"].startswith("postgresql://") and secret["REDIS_URL"].startswith("redis://")
    for name, deployment in deployments.items():
        sources = deployment["spec"]["template"]["spec"]["containers"][0].get("envFrom", [])
        assert {"secretRef": {"name": "meshserve-secrets"}} in sources, name
    assert by_kind(objects, "PersistentVolumeClaim")["registry-data"]["spec"]["accessModes"] == [
        "ReadWriteMany"
    ]


def test_the_dev_overlay_brings_its_own_postgres_and_redis():
    objects = render(K8S / "overlays" / "dev")
    sets = by_kind(objects, "StatefulSet")
    assert {"postgres", "redis"} <= set(sets)
    services = by_kind(objects, "Service")
    assert services["postgres"]["spec"]["ports"][0]["port"] == 5432
    assert services["redis"]["spec"]["ports"][0]["port"] == 6379
    secret = by_kind(objects, "Secret")["meshserve-secrets"]["stringData"]
    assert "@postgres:5432/" in secret["DATABASE_URL"] and secret["REDIS_URL"] == "redis://redis:6379/0"
    policy = by_kind(objects, "NetworkPolicy")["datastores-from-mesh"]["spec"]
    assert {p["port"] for p in policy["ingress"][0]["ports"]} == {5432, 6379}


def test_the_fine_tuning_job_template_validates_and_shares_the_inference_volume(tmp_path):
    template = yaml.safe_load((K8S / "training" / "finetune-job.yaml").read_text())
    assert_valid([template], tmp_path / "finetune-job.yaml")
    base = render(K8S / "base")
    inference = by_kind(base, "Deployment")["inference"]["spec"]["template"]["spec"]
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for v in template["spec"]["template"]["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {"finetune-work"} and "finetune-work" in by_kind(base, "PersistentVolumeClaim")
    mounts = {m["name"]: m["mountPath"] for m in inference["containers"][0]["volumeMounts"]}
    job_mounts = {
        m["name"]: m["mountPath"]
        for m in template["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    }
    assert mounts["finetune-work"] == job_mounts["work"] == "/shared/finetune"  # the same paths on both sides
    env = {e["name"]: e.get("value") for e in inference["containers"][0]["env"]}
    assert env["MESHSERVE_INFERENCE_FINETUNE_DRIVER"] == "kubernetes"
    assert env["MESHSERVE_INFERENCE_FINETUNE_SHARED_DIR"] == "/shared/finetune"
