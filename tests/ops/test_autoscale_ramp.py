"""Issue 8, "it must show" 1: under a load ramp on one model the autoscaler adds a worker within its
reaction time, the queue drains, and it removes the worker after the cooldown once the load stops;
each decision is listed with its reason (the same run as ``bench/autoscale.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.autoscale import MESH_ENV, PERIOD_SECONDS, WINDOW_SECONDS, ramp, render
from tests.procs import Mesh, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

#: Reaction budget on the 2-core build machine: a few control periods plus the load's own ramp-up.
REACTION_SECONDS = 10.0


@pytest.fixture(scope="module")
def ramp_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    with run_mesh(tmp_path_factory.mktemp("ramp"), MESH_ENV) as mesh:
        yield mesh


async def test_load_ramp_scales_up_then_down_after_the_cooldown(ramp_mesh: Mesh) -> None:
    report = await ramp(
        ramp_mesh.base_url,
        ramp_mesh.address("autoscaler"),
        ramp_mesh.address("inference"),
        concurrency=16,
        hold_seconds=3,
    )
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
