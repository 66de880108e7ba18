"""The operations surface on a real mesh: one trace per request across gateway, inference and Triton;
Socket.IO events at their period and for a request the client made; logs refuse to leave their
directory; the documented endpoints answer with measured figures."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import socketio

from tests.ops.browser import CHROMIUM, INSTALL_HINT, Browser
from tests.ops.otlp_sink import OtlpSink
from tests.procs import Mesh, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

PERIOD = 0.5


@pytest.fixture(scope="module")
def sink() -> Iterator[OtlpSink]:
    with OtlpSink() as running:
        yield running


@pytest.fixture(scope="module")
def ops_mesh(tmp_path_factory: pytest.TempPathFactory, sink: OtlpSink) -> Iterator[Mesh]:
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink.port}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "MESHSERVE_GATEWAY_EVENTS_PERIOD_SECONDS": str(PERIOD),
        "MESHSERVE_AUTOSCALER_PERIOD_SECONDS": "0.5",
        "MESHSERVE_AUTOSCALER_METRICS_PERIOD_SECONDS": "0.5",
    }
    with run_mesh(tmp_path_factory.mktemp("ops"), extra_env=env) as mesh:
        yield mesh


def predict(mesh: Mesh, request_id: str = "", **headers: str) -> httpx.Response:
    extra = {"X-Request-ID": request_id} if request_id else {}
    return httpx.post(
        f"{mesh.base_url}/predict",
        json={"model_name": "example", "inputs": [1.0, 2.0, 3.0]},
        headers={**extra, **headers},
        timeout=120,
    )


def test_one_request_one_trace_across_gateway_inference_and_triton(ops_mesh: Mesh, sink: OtlpSink) -> None:
    reply = predict(ops_mesh, "trace-me-1")
    assert reply.status_code == 200, reply.text

    def complete(found: list) -> bool:  # type: ignore[type-arg]
        # Spans are exported as they end, in batches: the server span of the inference service ends
        # after the Triton call inside it, so wait for all three of one trace.
        triton = [s for s in found if s.name.startswith("triton ModelInfer")]
        roots = {s.trace_id for s in found if s.service == "meshserve-gateway" and s.name.startswith("POST")}
        servers = {
            s.trace_id for s in found if s.service == "meshserve-inference" and s.name.endswith("/Predict")
        }
        return any(t.trace_id in roots and t.trace_id in servers for t in triton)

    spans = sink.wait_for(complete)
    gateway_traces = {
        s.trace_id for s in spans if s.service == "meshserve-gateway" and s.name.startswith("POST")
    }
    triton = next(s for s in spans if s.name.startswith("triton ModelInfer") and s.trace_id in gateway_traces)
    trace = [s for s in spans if s.trace_id == triton.trace_id]
    by_id = {s.span_id: s for s in trace}
    root = next(s for s in trace if not s.parent_id)
    assert root.service == "meshserve-gateway" and root.kind == 2 and "/predict" in root.name  # SERVER
    server = next(s for s in trace if s.service == "meshserve-inference" and s.name.endswith("/Predict"))
    # The inference service's span descends from the gateway's (traceparent over gRPC metadata) ...
    assert by_id[server.parent_id].service == "meshserve-gateway"
    # ... and the Triton call hangs under the inference service's span, in the inference process.
    parent = by_id.get(triton.parent_id)
    while parent is not None and parent.span_id != server.span_id:
        parent = by_id.get(parent.parent_id)
    assert parent is not None and triton.service == "meshserve-inference" and triton.kind == 3  # CLIENT


async def test_socketio_system_metrics_at_the_period_and_inference_events(ops_mesh: Mesh) -> None:
    client = socketio.AsyncClient()
    metrics: list[float] = []
    events: dict[str, list[dict]] = {"inference_started": [], "inference_completed": []}  # type: ignore[type-arg]
    three = asyncio.Event()
    mine = asyncio.Event()
    rid = f"sio-{time.time_ns()}"

    @client.on("system_metrics")
    async def on_metrics(data: dict) -> None:  # type: ignore[type-arg]
        metrics.append(time.monotonic())
        assert 0 <= data["data"]["cpu_usage"] <= 100 and data["event"] == "system_metrics"
        assert {
            "memory_usage",
            "disk_usage",
            "network_rx",
            "network_tx",
            "active_requests",
            "request_rate",
        } <= set(data["data"])
        if len(metrics) >= 4:
            three.set()

    @client.on("inference_started")
    async def on_started(data: dict) -> None:  # type: ignore[type-arg]
        events["inference_started"].append(data)

    @client.on("inference_completed")
    async def on_completed(data: dict) -> None:  # type: ignore[type-arg]
        events["inference_completed"].append(data)
        if data["data"]["request_id"] == rid:
            mine.set()

    await client.connect(ops_mesh.base_url, transports=["websocket"])
    try:
        # A subscribe with no payload, or a malformed one, is answered too (it went unanswered).
        for payload in (None, "nope", {"channels": [1]}):
            refused = await client.call("subscribe", payload, timeout=5)
            assert refused["subscribed"] == [] and (payload is None or refused["success"] is False)
        assert (await client.call("unsubscribe", None, timeout=5)) == {"success": True, "unsubscribed": []}
        ack = await client.call("subscribe", {"channels": ["system_metrics", "inference_events"]}, timeout=5)
        assert ack["success"] and set(ack["subscribed"]) == {"system_metrics", "inference_events"}
        await asyncio.wait_for(three.wait(), 10)
        gaps = [b - a for a, b in itertools.pairwise(metrics)]
        assert all(PERIOD * 0.5 < g < PERIOD * 2 for g in gaps), gaps
        reply = await asyncio.to_thread(predict, ops_mesh, rid)
        assert reply.status_code == 200
        await asyncio.wait_for(mine.wait(), 10)
    finally:
        await client.disconnect()
    done = next(e for e in events["inference_completed"] if e["data"]["request_id"] == rid)
    assert done["event"] == "inference_completed" and done["request_id"] == rid
    assert done["data"]["model"] == "example" and done["data"]["success"] is True
    assert done["data"]["inference_time"] > 0 and done["timestamp"].endswith("Z")
    assert any(e["data"]["request_id"] == rid for e in events["inference_started"])


def raw_get(mesh: Mesh, target: str, method: str = "GET") -> tuple[int, bytes]:
    """Sends a request line exactly as written (no client-side path normalisation)."""
    with socket.create_connection(("127.0.0.1", mesh.ports["gateway"]), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1]), data


@pytest.mark.parametrize(
    "target",
    [
        "/logs/../../etc/passwd",
        "/logs/..%2F..%2Fetc%2Fpasswd",
        "/logs/%2e%2e/%2e%2e/etc/passwd",
        "/logs/%2Fetc%2Fpasswd",
        "/logs/....//....//etc/passwd",
        "/logs/.hidden",
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_log_paths_outside_the_directory_are_refused(ops_mesh: Mesh, target: str, method: str) -> None:
    status, body = raw_get(ops_mesh, target, method)
    assert status in (400, 404), body[:300]
    assert b"root:" not in body


def test_logs_are_listed_read_filtered_and_cleared(ops_mesh: Mesh) -> None:
    base = ops_mesh.base_url
    listing = httpx.get(f"{base}/logs").json()
    names = {f["name"] for f in listing["files"]}
    assert {"gateway.jsonl", "inference.jsonl", "autoscaler.jsonl"} <= names, names
    text = httpx.get(f"{base}/logs/autoscaler.jsonl", params={"lines": 5}).text
    assert text.count("\n") <= 5 and '"service": "autoscaler"' in text
    entries = httpx.get(f"{base}/api/v1/system/logs", params={"level": "info", "limit": 5}).json()
    assert entries["success"] and 0 < entries["filtered_entries"] <= 5 <= entries["total_entries"]
    stamps = [e["timestamp"] for e in entries["logs"]]
    assert stamps == sorted(stamps, reverse=True)
    later = httpx.get(f"{base}/api/v1/system/logs", params={"since": "2999-01-01T00:00:00Z"}).json()
    assert later["filtered_entries"] == 0
    bad = httpx.get(f"{base}/api/v1/system/logs", params={"level": "loud"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_INPUT"
    cleared = httpx.delete(f"{base}/logs/speech.jsonl").json()
    assert cleared["success"] and httpx.get(f"{base}/logs/speech.jsonl").text.count("\n") <= 2


def test_documented_system_endpoints_report_measured_facts(ops_mesh: Mesh) -> None:
    base = ops_mesh.base_url
    assert predict(ops_mesh).status_code == 200
    info = httpx.get(f"{base}/info").json()
    assert {"version", "models", "gpu_memory"} <= set(info) and "example" in info["models"]
    gpu = httpx.get(f"{base}/gpu/detect").json()
    if not gpu["cuda_available"]:
        assert gpu["gpus"] == [] and gpu["summary"] == "no GPU, running on CPU" and info["gpu_memory"] is None
    stats = httpx.get(f"{base}/stats").json()
    assert stats["stats"]["total_requests"] >= 1 and any(m["model"] == "example" for m in stats["models"])
    status = httpx.get(f"{base}/api/v1/system/status").json()
    assert status["status"] == "healthy" and status["statistics"]["total_requests"] >= 1
    assert 0 <= status["system"]["cpu_usage"] <= 100
    # The Socket.IO publishers as they are (they start with the gateway), and its clients now.
    assert (
        status["services"]["websocket_server"] == "running" and status["services"]["websocket_clients"] >= 0
    )
    metrics = httpx.get(
        f"{base}/api/v1/system/metrics", params={"timeframe": "1h", "granularity": "1m"}
    ).json()
    assert metrics["metrics"]["timestamps"] and len(metrics["metrics"]["request_rate"]) == len(
        metrics["metrics"]["timestamps"]
    )
    assert httpx.get(f"{base}/api/v1/system/metrics", params={"timeframe": "2h"}).status_code == 400
    realtime = httpx.get(f"{base}/api/ai/advanced/monitoring/realtime").json()
    # The inference service's response cache: None before any generation, else hits / generations.
    hit_rate = realtime["metrics"]["cache_hit_rate"]
    assert (hit_rate is None or 0 <= hit_rate <= 1) and realtime["metrics"]["active_requests"] >= 0
    prom = httpx.get(f"{base}/metrics").text
    assert 'meshserve_http_requests_total{method="POST",route="/predict",status="200"}' in prom
    assert "meshserve_http_request_seconds_bucket" in prom


def test_manual_and_003_scaling_within_policy_bounds(ops_mesh: Mesh) -> None:
    base = ops_mesh.base_url
    policy = httpx.post(
        f"{base}/api/ai/advanced/scaling/autoscale",
        json={
            "scaling_type": "horizontal",
            "target_metric": "requests_per_minute",
            "target_value": 100000,
            "min_instances": 1,
            "max_instances": 2,
            "model_id": "*",
        },
    )
    assert policy.status_code == 200, policy.text
    assert policy.json()["policy"]["max_replicas"] == 2
    vertical = httpx.post(f"{base}/api/ai/advanced/scaling/autoscale", json={"scaling_type": "vertical"})
    assert vertical.status_code == 400 and vertical.json()["error"]["code"] == "INVALID_INPUT"
    scaled = httpx.post(f"{base}/autoscaler/scale", json={"replicas": 9, "reason": "test"}, timeout=60).json()
    decision = scaled["decision"]
    assert (
        decision["to_replicas"] == 2 and decision["trigger"] == "manual" and "clamped" in decision["reason"]
    )
    assert decision["applied"], decision
    stats = httpx.get(f"{base}/autoscaler/stats").json()
    assert stats["recent_decisions"][0]["reason"] == decision["reason"]
    assert httpx.get(f"{base}/autoscaler/health").json()["running"] is True
    back = httpx.post(f"{base}/autoscaler/scale", json={"replicas": 1}, timeout=60).json()["decision"]
    assert back["to_replicas"] == 1 and back["applied"]


@pytest.mark.skipif(CHROMIUM is None, reason=INSTALL_HINT)
def test_dashboard_in_headless_chromium_shows_numbers_that_change(ops_mesh: Mesh, tmp_path: Path) -> None:
    browser = Browser()
    try:
        browser.open(f"{ops_mesh.base_url}/dashboard")
        browser.wait_for("document.getElementById('status').textContent.startsWith('live')")
        browser.wait_for("Number(document.body.dataset.updates || 0) >= 2")  # periodic events arrive
        browser.wait_for("document.getElementById('total-requests').textContent !== '\\u2013'")
        before = int(browser.evaluate("document.getElementById('total-requests').textContent"))
        first = browser.screenshot(tmp_path / "dashboard-before.png")
        for _ in range(3):
            assert predict(ops_mesh).status_code == 200
        browser.wait_for("document.getElementById('completed').textContent === '3'")
        browser.wait_for(f"Number(document.getElementById('total-requests').textContent) >= {before + 3}")
        rows = browser.evaluate("document.querySelectorAll('#models tr').length")
        assert rows >= 1 and "example" in browser.evaluate("document.getElementById('models').textContent")
        cpu = browser.evaluate("document.getElementById('cpu-usage').textContent")
        assert 0 <= float(cpu) <= 100
        second = browser.screenshot(tmp_path / "dashboard-after.png")
    finally:
        browser.close()
    assert first[:8] == second[:8] == b"\x89PNG\r\n\x1a\n"
    assert first != second  # the page shows different numbers after the requests
