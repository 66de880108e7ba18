"""The dashboard page loads nothing but what the gateway serves (it works with no network), and the
chart points it reads are the autoscaler's samples, with gaps where nothing was measured."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.dashboard import ASSETS, PAGE, STATIC
from gateway.series import SampleRelay, chart_point, epoch
from meshserve.v1 import autoscaler_pb2 as apb


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as running:  # no service behind it: these routes read files only
        yield running


def test_every_script_and_stylesheet_of_the_page_is_served_by_the_gateway(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200
    loaded = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text)
    assert sorted(loaded) == sorted(f"/dashboard/static/{name}" for name in ASSETS)
    for path in loaded:
        reply = client.get(path)
        assert reply.status_code == 200 and reply.content == (STATIC / path.rsplit("/", 1)[1]).read_bytes()
        assert reply.headers["content-type"].startswith(ASSETS[path.rsplit("/", 1)[1]])
    script = (STATIC / "dashboard.js").read_text()
    # No absolute address in what the page runs (the Socket.IO address is built from its location).
    assert not re.search(r"https?://", PAGE.read_text() + script)
    assert "${location.host}" in script


@pytest.mark.parametrize("name", ["uPlot.LICENSE", "../page.html", "nothing.js"])
def test_only_the_page_assets_are_served(client: TestClient, name: str) -> None:
    assert client.get(f"/dashboard/static/{name}").status_code == 404


def test_history_minutes_outside_one_to_sixty_is_a_bad_request(client: TestClient) -> None:
    reply = client.get("/dashboard/history", params={"minutes": 61})
    assert reply.status_code in (400, 422) and "minutes" in reply.text


def sample(at: str, completed: float, known: bool = True) -> apb.MetricsSample:
    return apb.MetricsSample(
        time=at,
        has_inference_stats=known,
        completed_per_second=completed,
        latency_p99_ms=12.5,
        workers=2,
        models=[apb.ModelSample(model_name="m", completed_per_second=completed, latency_p99_ms=12.5)],
    )


def test_chart_points_leave_gaps_where_nothing_was_measured_or_served() -> None:
    busy = chart_point(sample("2026-12-05T10:00:01.500Z", 40.0))
    assert busy["t"] == epoch("2026-12-05T10:00:01.500Z") == 1796464801.5
    assert busy["requests_per_second"] == 40.0 and busy["latency_p99_ms"] == 12.5 and busy["workers"] == 2
    assert busy["models"]["m"]["latency_p99_ms"] == 12.5
    idle = chart_point(sample("2026-12-05T10:00:02.500Z", 0.0))
    assert idle["requests_per_second"] == 0.0 and idle["latency_p99_ms"] is None  # no request, no latency
    assert idle["models"]["m"]["latency_p99_ms"] is None
    unknown = chart_point(sample("2026-12-05T10:00:03.500Z", 0.0, known=False))
    assert unknown["requests_per_second"] is None and unknown["workers"] is None


def test_the_relay_sends_each_sample_once_and_starts_from_the_newest() -> None:
    relay = SampleRelay()
    first = apb.GetMetricsHistoryResponse(points=[sample(f"2026-12-05T10:00:0{i}Z", 1.0) for i in range(3)])
    assert [p["t"] for p in relay.fresh(first)] == [epoch("2026-12-05T10:00:02Z")]
    second = apb.GetMetricsHistoryResponse(points=[sample(f"2026-12-05T10:00:0{i}Z", 1.0) for i in range(5)])
    assert [p["t"] for p in relay.fresh(second)] == [epoch(f"2026-12-05T10:00:0{i}Z") for i in (3, 4)]
    assert relay.fresh(second) == []
