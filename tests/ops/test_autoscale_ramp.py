"""A load ramp on one model (the same run as ``bench/autoscale.py``), watched two ways:

- the autoscaler adds a worker within its reaction time, the queue drains, and it removes the worker
  after the cooldown once the load stops; each decision is listed with its reason;
- ``/dashboard``, open in headless Chromium through the ramp, draws it: its charts hold drawn series,
  and their points add up to what the gateway's ``/metrics`` counted in the same window.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.autoscale import MESH_ENV, PERIOD_SECONDS, WINDOW_SECONDS, RampReport, ramp, render
from tests.ops.browser import CHROMIUM, INSTALL_HINT, Browser
from tests.procs import Mesh, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

#: Where the README's dashboard screenshot is refreshed from (``make screenshots`` sets it).
SHOTS = (
    Path(os.environ["MESHSERVE_TEST_SCREENSHOTS"]) if os.environ.get("MESHSERVE_TEST_SCREENSHOTS") else None
)

#: Reaction budget on the 2-core build machine: a few control periods plus the load's own ramp-up.
REACTION_SECONDS = 10.0


@pytest.fixture(scope="module")
def ramp_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    with run_mesh(tmp_path_factory.mktemp("ramp"), MESH_ENV) as mesh:
        yield mesh


@dataclass
class Watched:
    """The ramp's report, the dashboard that watched it, and the gateway's inference request counter
    (``meshserve_inference_requests_total``, every outcome) scraped before and after it (Unix time,
    count)."""

    report: RampReport
    base_url: str
    browser: Browser | None
    before: tuple[float, float]
    after: tuple[float, float]


def inference_requests(base_url: str) -> tuple[float, float]:
    """When, and how many inference requests the gateway's ``/metrics`` has counted."""
    text = httpx.get(f"{base_url}/metrics", timeout=10).text
    found = re.findall(r'^meshserve_inference_requests_total\{outcome="\w+"\} (\S+)$', text, re.M)
    return time.time(), sum(float(v) for v in found)


@pytest.fixture(scope="module")
def watched(ramp_mesh: Mesh) -> Iterator[Watched]:
    browser = Browser() if CHROMIUM else None
    try:
        if browser is not None:
            browser.open(f"{ramp_mesh.base_url}/dashboard")
            browser.wait_for("window.meshDashboard && meshDashboard.historyLoaded")
            browser.wait_for("document.getElementById('status').textContent.startsWith('live')")
        before = inference_requests(ramp_mesh.base_url)
        report = asyncio.run(
            ramp(
                ramp_mesh.base_url,
                ramp_mesh.address("autoscaler"),
                ramp_mesh.address("inference"),
                concurrency=16,
                hold_seconds=3,
            )
        )
        after = inference_requests(ramp_mesh.base_url)
        yield Watched(report, ramp_mesh.base_url, browser, before, after)
    finally:
        if browser is not None:
            browser.close()


def test_load_ramp_scales_up_then_down_after_the_cooldown(watched: Watched) -> None:
    report = watched.report
    print(render(report))
    cooldown = report.policy["scale_down_cooldown_seconds"]
    assert report.requests_failed == 0 and report.requests_ok > 0
    up = next(d for d in report.decisions if d["to"] > d["from"])
    assert (up["from"], up["to"], up["trigger"], up["applied"]) == (1, 2, "policy", True)
    assert "in_flight=" in up["reason"] and "scale up by 1" in up["reason"]
    # The demand that triggered it exceeded what one replica is meant to carry.
    assert up["inputs"]["in_flight"] > report.policy["target_value"] * up["from"]
    assert report.scale_up_after_s is not None and report.scale_up_after_s <= REACTION_SECONDS
    assert report.worker_ready_after_s is not None  # the second worker served
    assert report.drained_after_stop_s is not None  # in-flight and queue back to 0 once the load stopped
    down = next(d for d in report.decisions if d["to"] < d["from"])
    assert (down["from"], down["to"], down["applied"]) == (2, 1, True) and "scale down by 1" in down["reason"]
    assert report.scale_down_after_stop_s is not None
    # Not before the cooldown (a steady load's mean in flight never looks idle); the averaging window
    # has to forget the load first, then the cooldown runs, plus slack for a busy machine.
    assert cooldown - PERIOD_SECONDS <= report.scale_down_after_stop_s <= WINDOW_SECONDS + cooldown + 5
    assert report.workers_at_end == 1


#: Counts, per chart, the plot-area pixels in the colour of one of its series: drawn lines (a
#: series can hide another where they overlap, so any of them counts).
DRAWN_PIXELS = """(() => {
  const out = {};
  for (const [id, {chart, spec}] of Object.entries(meshDashboard.charts)) {
    const {left, top, width, height} = chart.bbox;
    const pixels = chart.ctx.getImageData(left, top, width, height).data;
    const colours = spec.series.map(([, , hex]) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
    let n = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      if (pixels[i + 3] > 200 && colours.some((rgb) => rgb.every((c, k) => Math.abs(pixels[i + k] - c) < 24))) n++;
    }
    out[id] = n;
  }
  return out;
})()"""


def chart(browser: Browser, chart_id: str) -> list[list[Any]]:
    """The data a chart plots: its x values (Unix seconds), then one list per series."""
    return list(browser.evaluate(f"meshDashboard.charts[{chart_id!r}].chart.data"))


@pytest.mark.skipif(CHROMIUM is None, reason=INSTALL_HINT)
def test_the_dashboard_charts_draw_the_ramp_as_metrics_counted_it(watched: Watched, tmp_path: Path) -> None:
    browser = watched.browser
    assert browser is not None
    started, counted_before = watched.before
    ended, counted_after = watched.after
    # The live samples reach past the end of the ramp (one period is 1 s, MESH_ENV).
    browser.wait_for(f"meshDashboard.points.length && meshDashboard.points.at(-1).t > {ended + 1.5}", 30)
    assert browser.evaluate("meshDashboard.liveSamples") > 5  # extended over Socket.IO, not reloaded

    xs, requests, errors = chart(browser, "requests")
    # Each point's rate is the counter's change since the previous point, over the time between them:
    # the points after the first scrape add up to the requests the gateway counted meanwhile (the
    # machine was quiet before and after the ramp).
    window = [i for i in range(1, len(xs)) if xs[i] > started]
    charted = sum(requests[i] * (xs[i] - xs[i - 1]) for i in window)
    counted = counted_after - counted_before
    assert counted >= watched.report.requests_ok > 100
    assert charted == pytest.approx(counted, rel=0.03, abs=3)
    assert sum(errors[i] for i in window) == 0  # the ramp had no failures, nor does the chart
    assert max(requests[i] for i in window) > 10

    # Workers go 1 -> 2 -> 1 with the decisions marked on the same axis.
    _, workers = chart(browser, "workers")
    assert max(w for w in workers if w is not None) == 2 and workers[-1] == 1
    marks = browser.evaluate("meshDashboard.decisions.map((d) => [d.from_replicas, d.to_replicas])")
    assert [1, 2] in marks and [2, 1] in marks
    _, p50, p95, p99 = chart(browser, "latency")
    busy = [i for i in window if requests[i] > 10]
    assert all(0 < p50[i] <= p95[i] <= p99[i] for i in busy)

    # A model row opens that model's charts, with the same requests as the whole mesh (one model).
    browser.wait_for("!!document.querySelector('#models tr[data-model=\"example\"]')")
    browser.evaluate("document.querySelector('#models tr[data-model=\"example\"]').click()")
    browser.wait_for("!document.getElementById('model-section').hidden")
    model_xs, model_requests, _ = chart(browser, "model-requests")
    model_rates = dict(zip(model_xs, model_requests, strict=True))
    assert all(model_rates[xs[i]] == pytest.approx(requests[i]) for i in busy)

    drawn = browser.evaluate(DRAWN_PIXELS)
    assert set(drawn) >= {"requests", "latency", "tokens", "load", "workers", "host", "model-requests"}
    assert all(count > 50 for count in drawn.values()), drawn
    # Offline: everything the page loaded came from the gateway it was opened on.
    loaded = browser.evaluate("performance.getEntriesByType('resource').map((e) => e.name)")
    assert loaded and all(url.startswith(f"{watched.base_url}/") for url in loaded), loaded
    shot = browser.screenshot(tmp_path / "dashboard.png", full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    if SHOTS is not None:
        (SHOTS / "dashboard.png").write_bytes(shot)
