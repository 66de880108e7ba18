"""The whole mesh through `meshserve up`: health, one real call per service, restart after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from meshserve.v1 import (
    auth_pb2,
    auth_pb2_grpc,
    autoscaler_pb2,
    autoscaler_pb2_grpc,
    inference_pb2,
    inference_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
    speech_pb2,
    speech_pb2_grpc,
)
from services.common.settings import SERVICE_NAMES
from tests.procs import ROOT, Mesh

pytestmark = pytest.mark.integration


def test_health_reports_every_service(mesh: Mesh) -> None:
    response = httpx.get(f"{mesh.base_url}/health")
    assert response.status_code == 200
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["status"] == "healthy" and body["success"] is True
    assert set(body["services"]) == set(SERVICE_NAMES)
    for name, info in body["services"].items():
        assert info["status"] == "serving"
        assert info["address"] == mesh.address(name)


def test_request_id_is_echoed(mesh: Mesh) -> None:
    response = httpx.get(f"{mesh.base_url}/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json()["request_id"] == "abc-123"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_grpc_health_on_each_port(mesh: Mesh, service: str) -> None:
    with grpc.insecure_channel(mesh.address(service)) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_one_real_call_per_service(mesh: Mesh) -> None:
    with grpc.insecure_channel(mesh.address("registry")) as channel:
        models = registry_pb2_grpc.RegistryServiceStub(channel).ListModels(
            registry_pb2.ListModelsRequest(), timeout=5
        )
        assert "example" in {m.name for m in models.models}
    with grpc.insecure_channel(mesh.address("inference")) as channel:
        info = inference_pb2_grpc.InferenceServiceStub(channel).GetDeviceInfo(
            inference_pb2.GetDeviceInfoRequest(), timeout=10
        )
        assert info.devices[0].id == "cpu" and info.devices[0].memory_total_bytes > 0
    with grpc.insecure_channel(mesh.address("speech")) as channel:
        voices = speech_pb2_grpc.SpeechServiceStub(channel).ListVoices(
            speech_pb2.ListVoicesRequest(), timeout=5
        )
        assert any(v.name == "en_US-joe-medium" and v.available for v in voices.voices)
    with grpc.insecure_channel(mesh.address("autoscaler")) as channel:
        stats = autoscaler_pb2_grpc.AutoscalerServiceStub(channel).GetAutoscalerStats(
            autoscaler_pb2.GetAutoscalerStatsRequest(), timeout=5
        )
        assert stats.running
    with grpc.insecure_channel(mesh.address("auth")) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        user = stub.Register(
            auth_pb2.RegisterRequest(username="mesh-test", email="mesh@example.org", password="s3cret-pass!"),
            timeout=10,
        ).user
        assert user.id and user.role == auth_pb2.ROLE_WRITE
        with pytest.raises(grpc.RpcError) as caught:
            stub.Register(auth_pb2.RegisterRequest(username="x", email="bad", password="short"), timeout=5)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_killed_service_is_reported_and_restarted(mesh: Mesh) -> None:
    state = json.loads((mesh.data_dir / "launcher.json").read_text())
    pid = state["processes"]["speech"]["pid"]
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    while True:
        response = httpx.get(f"{mesh.base_url}/health", timeout=5)
        if response.status_code == 503:
            break
        assert time.monotonic() - killed_at < 2, "/health did not notice the dead service within 2 s"
        time.sleep(0.05)
    body = response.json()
    assert body["unavailable_services"] == ["speech"]
    assert body["services"]["speech"]["status"] == "unavailable"
    while httpx.get(f"{mesh.base_url}/health", timeout=5).status_code != 200:
        assert time.monotonic() - killed_at < 10, "the launcher did not restart the service within 10 s"
        time.sleep(0.2)
    state = json.loads((mesh.data_dir / "launcher.json").read_text())
    assert state["processes"]["speech"]["restarts"] >= 1
    assert state["processes"]["speech"]["pid"] != pid


def test_a_second_mesh_on_the_same_ports_stops_at_once_saying_why(mesh: Mesh, tmp_path: Path) -> None:
    ports = {f"MESHSERVE_{name.upper()}_PORT": str(port) for name, port in mesh.ports.items()}
    second = subprocess.run(
        [sys.executable, "-m", "services.launcher", "up"],
        cwd=ROOT,
        env={**os.environ, **ports, "MESHSERVE_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"gateway on 127.0.0.1:{mesh.ports['gateway']}" in second.stderr
    assert f"inference on 127.0.0.1:{mesh.ports['inference']}" in second.stderr
    assert "already running" in second.stderr and "starting" not in second.stdout
    assert not (tmp_path / "launcher.json").exists()  # nothing was started, nothing recorded
    assert httpx.get(f"{mesh.base_url}/health", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("path", "envelope"),
    [
        ("/no/such/path", "pytorch-if"),
        ("/api/v1/no-such", "llama-gpu"),
        ("/api/ai/no-such", "auterity"),
        ("/v1/no-such", "openai"),
        ("/v2/no-such", "kserve"),
    ],
)
def test_unknown_path_uses_the_surface_envelope(mesh: Mesh, path: str, envelope: str) -> None:
    response = httpx.get(f"{mesh.base_url}{path}")
    assert response.status_code == 404
    assert response.headers["x-request-id"]
    body = response.json()
    if envelope == "pytorch-if":
        assert body["success"] is False and body["error"] and body["detail"]
    elif envelope == "llama-gpu":
        assert body["success"] is False and body["error"]["code"] == "NOT_FOUND"
        assert body["request_id"] == response.headers["x-request-id"] and body["timestamp"]
    elif envelope == "auterity":
        assert body["error"]["code"] == "NOT_FOUND" and "suggestion" in body["error"] and body["timestamp"]
    elif envelope == "openai":
        assert body["error"]["type"] == "invalid_request_error" and body["error"]["message"]
    else:
        assert body == {"error": "no such endpoint"}


def test_openapi_and_docs(mesh: Mesh) -> None:
    spec = httpx.get(f"{mesh.base_url}/openapi.json").json()
    assert "/health" in spec["paths"]
    for page in ("/docs", "/redoc"):
        assert httpx.get(f"{mesh.base_url}{page}").status_code == 200


def test_a_loaded_model_serves_while_the_registry_cannot_answer(mesh: Mesh) -> None:
    """The registry is off the prediction path of a model already serving: with it frozen, the
    inference service uses its last look-up (MESHSERVE_INFERENCE_REGISTRY_STALE_SECONDS)."""
    body = {"model_name": "example", "inputs": [1.0, 2.0, 3.0]}
    assert httpx.post(f"{mesh.base_url}/predict", json=body, timeout=60).status_code == 200
    pid = json.loads((mesh.data_dir / "launcher.json").read_text())["processes"]["registry"]["pid"]
    os.kill(pid, signal.SIGSTOP)  # it holds its port but answers nothing: every call runs out of time
    try:
        time.sleep(2.5)  # past the look-up's 2 s freshness
        replies = [httpx.post(f"{mesh.base_url}/predict", json=body, timeout=60) for _ in range(5)]
        assert [r.status_code for r in replies] == [200] * 5, replies[-1].text
        unknown = httpx.post(
            f"{mesh.base_url}/predict", json={**body, "model_name": "never-seen"}, timeout=30
        )
        assert unknown.status_code in (503, 504), unknown.text  # no look-up to fall back on: not a 500
    finally:
        os.kill(pid, signal.SIGCONT)
