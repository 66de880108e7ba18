"""Grafana dashboards and Prometheus alert rules (deploy/grafana, deploy/prometheus/rules.yml): the
dashboards' JSON is what deploy/grafana/dashboards.py writes, every metric a panel or a rule
queries is one the live mesh exports (scraped from the gateway and every service's metrics port
after a prediction and a generation), and the rules pass ``promtool check rules``."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.inference.models import onnx_bytes
from tests.procs import Mesh, free_port, run_mesh

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
SERVICES = ("auth", "registry", "inference", "speech", "autoscaler")
#: A PromQL metric name: the series names meshserve and Triton export (recording rules, which hold
#: a colon, and functions, labels and keywords never start so).
METRIC = re.compile(r"\b((?:meshserve|nv)_[a-zA-Z0-9_]+)\b")


def dashboards_module():
    spec = importlib.util.spec_from_file_location("dashboards", GRAFANA / "dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dashboard_queries() -> dict[str, str]:
    """Every panel query, by ``<dashboard>/<panel>``."""
    queries = {}
    for path in sorted((GRAFANA / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                queries[f"{path.stem}/{panel['title']}/{target['refId']}"] = target["expr"]
    return queries


def rule_queries() -> dict[str, str]:
    """Every rule's expression, by its alert or record name."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule.get("alert") or rule["record"]: rule["expr"] for group in groups for rule in group["rules"]}


def exported_names(text: str) -> set[str]:
    """The series names an exposition holds: its samples, and every declared family (a labelled
    metric with no sample yet is declared by its HELP and TYPE lines), histograms with their series."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            names.add(name)
            if kind == "histogram":
                names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            if kind == "counter" and not name.endswith("_total"):
                names.add(f"{name}_total")
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def test_dashboard_json_is_what_the_generator_writes() -> None:
    rendered = dashboards_module().rendered()
    on_disk = {p.name: p.read_text() for p in (GRAFANA / "dashboards").glob("*.json")}
    assert on_disk == rendered, "run: python deploy/grafana/dashboards.py"
    kustomized = yaml.safe_load((GRAFANA / "kustomization.yaml").read_text())["configMapGenerator"]
    assert sorted(f for entry in kustomized for f in entry["files"]) == sorted(
        f"dashboards/{n}" for n in rendered
    )


def test_every_dashboard_has_panels_on_the_prometheus_datasource() -> None:
    uids = set()
    for path in (GRAFANA / "dashboards").glob("*.json"):
        board = json.loads(path.read_text())
        uids.add(board["uid"])
        assert board["panels"], path.name
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] == "prometheus" and panel["targets"], panel["title"]
    assert uids == {
        "meshserve-overview",
        "meshserve-models",
        "meshserve-language-models",
        "meshserve-speech",
        "meshserve-auth",
    }
    source = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert source["datasources"][0]["uid"] == "prometheus"


def test_alert_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed: make system-deps installs Debian's prometheus package")
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = {name for name in rule_queries() if not name.startswith("meshserve:")}
    assert {
        "MeshserveErrorBudgetFastBurn",
        "MeshserveErrorBudgetSlowBurn",
        "MeshserveLatencyBudgetFastBurn",
        "MeshserveLatencyBudgetSlowBurn",
        "MeshserveWorkerDown",
        "MeshserveQueueGrowing",
        "MeshserveAutoscalerAtMaximum",
    } <= alerts


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    """Every series name the mesh exports after a prediction and a generation."""
    ports = {name: free_port() for name in SERVICES}
    env = {f"MESHSERVE_{name.upper()}_METRICS_PORT": str(port) for name, port in ports.items()}
    with run_mesh(tmp_path_factory.mktemp("monitored"), env) as mesh:
        traffic(mesh)
        names = exported_names(httpx.get(f"{mesh.base_url}/metrics", timeout=10).text)
        for port in ports.values():
            names |= exported_names(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)
        yield names


def traffic(mesh: Mesh) -> None:
    """One tensor prediction and one generation, so Triton's per-model series exist too."""
    with httpx.Client(base_url=mesh.base_url, timeout=300) as http:
        uploaded = http.post(
            "/v1/models", data={"name": "watched", "format": "onnx"}, files={"file": ("m.onnx", onnx_bytes())}
        )
        assert uploaded.status_code == 201, uploaded.text
        body = {"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
        assert http.post("/v2/models/watched/infer", json=body).status_code == 200
        chat = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
        assert http.post("/v1/chat/completions", json=chat).status_code == 200


@pytest.mark.slow
def test_every_queried_metric_is_exported_by_the_mesh(scraped: set[str]) -> None:
    missing = {
        f"{where}: {name}"
        for where, expr in {**dashboard_queries(), **rule_queries()}.items()
        for name in METRIC.findall(expr)
        if name not in scraped
    }
    assert not missing, sorted(missing)
    assert "meshserve_llm_time_to_first_token_seconds_bucket" in scraped  # the generation was measured
