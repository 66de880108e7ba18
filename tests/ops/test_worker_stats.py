"""Worker utilisation over a fixed trailing window (any number of readers agree), queue depth that
counts requests still waiting for a worker, and Triton metrics relabelled per worker. No processes."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from services.inference.placements import Placement
from services.inference.servicer import queue_depth
from services.inference.stats import Counter, Statistics
from services.inference.triton_metrics import TritonMetricsCollector, relabel


def busy(stats: Statistics, worker: str, start: float, end: float) -> None:
    counter = stats.worker(worker)
    counter.begin()
    counter.busy_since = start
    counter.end(1.0, True)
    counter.busy[-1] = (start, end)


def test_in_flight_seconds_integrate_the_count_over_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [10.0]
    monkeypatch.setattr("services.inference.stats.time.monotonic", lambda: now[0])
    counter = Counter()
    counter.begin()  # one request from 10 s ...
    now[0] = 12.0
    counter.begin()  # ... a second from 12 s
    now[0] = 13.0
    counter.end(3000.0, True)
    assert counter.in_flight_seconds() == 4.0  # 2 s alone, then 1 s of two
    now[0] = 15.5
    assert counter.in_flight_seconds() == 6.5  # the one still running counts up to now
    counter.end(3000.0, False)
    now[0] = 20.0
    assert counter.in_flight_seconds() == 6.5  # idle time adds nothing


def test_utilization_is_the_busy_fraction_of_the_trailing_window_for_every_reader() -> None:
    stats = Statistics(started=0.0, window_seconds=10.0)
    busy(stats, "w", 50.0, 89.0)  # entirely before the window: not counted
    busy(stats, "w", 92.0, 95.0)  # 3 s busy inside the window [90, 100]
    readings = [stats.utilization("w", now=100.0) for _ in range(3)]
    assert readings == [0.3, 0.3, 0.3]  # the old "since the last call" gave 0 to the second reader
    # A stretch still running counts up to now; one straddling the window start counts its inside part.
    counter = stats.worker("w")
    counter.begin()
    counter.busy_since = 97.0
    assert stats.utilization("w", now=100.0) == 0.6
    busy(stats, "x", 85.0, 95.0)
    assert stats.utilization("x", now=100.0) == 0.5
    # Younger than the window, the uptime is the span.
    young = Statistics(started=0.0, window_seconds=10.0)
    busy(young, "w", 1.0, 2.0)
    assert young.utilization("w", now=4.0) == 0.25


def test_requests_waiting_for_a_worker_are_in_flight_and_queued() -> None:
    counter = Counter()
    for _ in range(3):
        counter.begin()
    counter.waiting = 3  # pool at zero workers: all three wait
    assert queue_depth(counter, Placement(name="m")) == 3
    counter.waiting = 0  # dispatched to two replicas: one beyond one per replica
    assert queue_depth(counter, Placement(name="m", workers={"worker-0", "worker-1"})) == 1


TRITON_TEXT = """# HELP nv_inference_request_success Number of successful inference requests, all batch sizes
# TYPE nv_inference_request_success counter
nv_inference_request_success{model="m_1",version="1"} 4
# HELP nv_cpu_utilization CPU utilization rate [0.0 - 1.0]
# TYPE nv_cpu_utilization gauge
nv_cpu_utilization 0.25
"""


def test_triton_metrics_are_relabelled_per_worker_and_failed_scrapes_reported() -> None:
    families: dict = {}  # type: ignore[type-arg]
    relabel(TRITON_TEXT, "worker-0", families)
    relabel(TRITON_TEXT.replace(" 4\n", " 9\n"), "worker-1", families)
    samples = {(s.name, s.labels.get("worker")): s.value for f in families.values() for s in f.samples}
    assert samples[("nv_inference_request_success_total", "worker-0")] == 4
    assert samples[("nv_inference_request_success_total", "worker-1")] == 9
    assert samples[("nv_cpu_utilization", "worker-1")] == 0.25
    # A worker whose endpoint does not answer is reported down, not silently skipped.
    registry = CollectorRegistry()
    registry.register(TritonMetricsCollector(lambda: [("worker-7", "http://127.0.0.1:9/metrics")], 0.5))
    assert 'meshserve_triton_worker_up{worker="worker-7"} 0.0' in generate_latest(registry).decode()


def test_latency_percentiles_come_from_the_recent_window_in_one_sort() -> None:
    counter = Counter()
    assert counter.percentiles(50, 99) == [0.0, 0.0]  # nothing measured yet
    for latency in range(100, 0, -1):  # 100 ms down to 1 ms; failures are not latencies
        counter.begin()
        counter.end(float(latency), ok=True)
    counter.begin()
    counter.end(5000.0, ok=False)
    assert counter.percentiles(50, 90, 99, 100) == [51.0, 91.0, 100.0, 100.0]
    assert counter.percentile(90) == 91.0
