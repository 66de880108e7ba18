"""Autoscaling under a load ramp on one model: the autoscaler adds a worker within its reaction time,
the queue drains, and it removes the worker after the cooldown once the load stops; every decision is
listed with its reason.

Starts its own mesh on free ports (one Triton worker, the local driver, a 0.5 s control period), puts
a policy on the built-in ``example`` model (mean requests in flight, from the inference service's
request-seconds, averaged over a 3 s window; 0.05 per replica, 1 to 2 replicas, scale-up cooldown
2 s, scale-down cooldown 6 s, which is also the stabilisation window: the worker goes once fewer
replicas were wanted for 6 s, so about 3 + 6 s after the load stops), then drives
``POST /predict`` through the gateway at a fixed concurrency.

The target is small because the model is: it answers in about a millisecond, so the load (bound by
the gateway's CPU on a 2-core machine) keeps only some 0.2 to 0.5 requests in flight at the
inference service. A target well under that holds the second replica until the load stops, so
the scale-down measures the cooldown and not a lull in the clients. Run: ``.venv/bin/python bench/autoscale.py [--concurrency 16] [--hold 8]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshserve.v1 import autoscaler_pb2 as apb
from meshserve.v1 import autoscaler_pb2_grpc as apb_grpc
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from tests.procs import RATE_LIMITS_OFF, run_mesh

PERIOD_SECONDS = 0.5
WINDOW_SECONDS = 3.0
MESH_ENV = {
    "MESHSERVE_INFERENCE_WORKERS": "1",
    "MESHSERVE_AUTOSCALER_PERIOD_SECONDS": str(PERIOD_SECONDS),
    "MESHSERVE_AUTOSCALER_WINDOW_SECONDS": str(WINDOW_SECONDS),
    "MESHSERVE_AUTOSCALER_METRICS_PERIOD_SECONDS": "1",
    **RATE_LIMITS_OFF,  # the load comes from one address
}


@dataclass
class RampReport:
    """What the ramp showed."""

    policy: dict[str, Any]
    decisions: list[dict[str, Any]] = field(default_factory=list)
    requests_ok: int = 0
    requests_failed: int = 0
    peak_in_flight: int = 0
    scale_up_after_s: float | None = None
    worker_ready_after_s: float | None = None
    drained_after_stop_s: float | None = None
    scale_down_after_stop_s: float | None = None
    workers_at_end: int = 0
    timeline: list[tuple[float, int, int, int]] = field(
        default_factory=list
    )  # (t, in_flight, queue, workers)


def since(t0: float, stamp: str) -> float:
    """Seconds from a monotonic start to an RFC 3339 decision time (wall clock)."""
    from datetime import datetime

    wall = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    return round(wall - (time.time() - (time.monotonic() - t0)), 3)


async def ramp(
    base_url: str,
    autoscaler_address: str,
    inference_address: str,
    *,
    model: str = "example",
    concurrency: int = 16,
    hold_seconds: float = 8.0,
    timeout: float = 90.0,
) -> RampReport:
    """Runs the ramp against a running mesh and reports it."""
    scaler_channel = grpc.aio.insecure_channel(autoscaler_address)
    inference_channel = grpc.aio.insecure_channel(inference_address)
    scaler = apb_grpc.AutoscalerServiceStub(scaler_channel)
    inference = ipb_grpc.InferenceServiceStub(inference_channel)
    policy = apb.Policy(
        target=model,
        target_metric="in_flight",
        target_value=0.05,
        min_replicas=1,
        max_replicas=2,
        scale_up_step=1,
        scale_down_step=1,
        scale_up_cooldown_seconds=2,
        scale_down_cooldown_seconds=6,
    )
    await scaler.PutPolicy(apb.PutPolicyRequest(policy=policy))
    report = RampReport(policy={f.name: getattr(policy, f.name) for f in policy.DESCRIPTOR.fields})
    body = {"model_name": model, "inputs": [1.0, 2.0, 3.0, 4.0]}
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        assert (await http.post("/predict", json=body)).status_code == 200  # loads the model first
        decisions: list[apb.Decision] = []
        watch = scaler.WatchDecisions(apb.WatchDecisionsRequest(target=model))
        await watch.wait_for_connection()  # subscribed: no decision of the ramp can be missed

        async def collect() -> None:
            with contextlib.suppress(grpc.aio.AioRpcError, asyncio.CancelledError):
                async for item in watch:
                    decisions.append(item.decision)

        collector = asyncio.create_task(collect())
        stop = asyncio.Event()
        t0 = time.monotonic()

        async def client() -> None:
            while not stop.is_set():
                reply = await http.post("/predict", json=body)
                if reply.status_code == 200:
                    report.requests_ok += 1
                else:
                    report.requests_failed += 1

        async def sample() -> tuple[int, int, int]:
            stats = await inference.GetStats(ipb.GetStatsRequest(model_name=model), timeout=5)
            workers = await inference.ListWorkers(ipb.ListWorkersRequest(), timeout=5)
            m = next((x for x in stats.models if x.model_name == model), None)
            ready = sum(1 for w in workers.workers if w.state == "ready")
            row = (m.in_flight if m else 0, m.queue_depth if m else 0, ready)
            report.timeline.append((round(time.monotonic() - t0, 2), *row))
            report.peak_in_flight = max(report.peak_in_flight, row[0])
            return row

        clients = [asyncio.create_task(client()) for _ in range(concurrency)]
        deadline = t0 + timeout
        try:
            # Load until the scale-up decision, then until the new worker serves, then hold.
            while not any(d.to_replicas > d.from_replicas for d in decisions) and time.monotonic() < deadline:
                await sample()
                await asyncio.sleep(0.25)
            up = next((d for d in decisions if d.to_replicas > d.from_replicas), None)
            report.scale_up_after_s = since(t0, up.time) if up else None
            while time.monotonic() < deadline:
                _, _, ready = await sample()
                if ready >= 2:
                    report.worker_ready_after_s = round(time.monotonic() - t0, 2)
                    break
                await asyncio.sleep(0.25)
            hold_until = time.monotonic() + hold_seconds
            while time.monotonic() < hold_until:
                await sample()
                await asyncio.sleep(0.25)
        finally:
            stop.set()
            await asyncio.gather(*clients, return_exceptions=True)
        stopped = time.monotonic()
        while time.monotonic() < deadline:
            in_flight, queue, _ = await sample()
            if in_flight == 0 and queue == 0:
                report.drained_after_stop_s = round(time.monotonic() - stopped, 2)
                break
            await asyncio.sleep(0.1)
        while time.monotonic() < deadline and not any(d.to_replicas < d.from_replicas for d in decisions):
            await sample()
            await asyncio.sleep(0.25)
        down = next((d for d in decisions if d.to_replicas < d.from_replicas), None)
        if down is not None:
            report.scale_down_after_stop_s = round(since(t0, down.time) - (stopped - t0), 2)
        watch.cancel()
        collector.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await collector
    report.decisions = [
        {
            "at_s": since(t0, d.time),
            "from": d.from_replicas,
            "to": d.to_replicas,
            "trigger": d.trigger,
            "applied": d.applied,
            "reason": d.reason,
            "inputs": dict(d.inputs),
        }
        for d in decisions
    ]
    workers = await inference.ListWorkers(ipb.ListWorkersRequest(), timeout=5)
    report.workers_at_end = sum(1 for w in workers.workers if w.state != "stopping")
    await scaler_channel.close()
    await inference_channel.close()
    return report


def render(report: RampReport) -> str:
    """The report as text."""
    lines = [
        f"policy: {report.policy['target_metric']} target {report.policy['target_value']:g}/replica, "
        f"replicas {report.policy['min_replicas']}..{report.policy['max_replicas']}, cooldowns up "
        f"{report.policy['scale_up_cooldown_seconds']:g}s down {report.policy['scale_down_cooldown_seconds']:g}s, "
        f"period {PERIOD_SECONDS}s, metrics averaged over {WINDOW_SECONDS:g}s",
        f"requests ok {report.requests_ok}, failed {report.requests_failed}, peak in-flight {report.peak_in_flight}",
        f"scale-up decided {report.scale_up_after_s}s after the load started; second worker serving at "
        f"{report.worker_ready_after_s}s",
        f"queue drained {report.drained_after_stop_s}s after the load stopped; scale-down decided "
        f"{report.scale_down_after_stop_s}s after it; workers at end {report.workers_at_end}",
        "decisions:",
        *(
            f"  t={d['at_s']:>6}s {d['from']} -> {d['to']} ({d['trigger']}, applied={d['applied']}): {d['reason']}"
            for d in report.decisions
        ),
    ]
    return "\n".join(lines)


async def main(concurrency: int, hold: float, json_out: Path | None) -> None:
    """Starts a mesh, runs the ramp, prints the report."""
    with tempfile.TemporaryDirectory() as tmp, run_mesh(Path(tmp), MESH_ENV) as mesh:
        report = await ramp(
            mesh.base_url,
            mesh.address("autoscaler"),
            mesh.address("inference"),
            concurrency=concurrency,
            hold_seconds=hold,
        )
    print(render(report))
    if json_out is not None:
        await asyncio.to_thread(json_out.write_text, json.dumps(asdict(report), indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients during the ramp")
    parser.add_argument("--hold", type=float, default=8.0, help="seconds of load after the new worker serves")
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON here")
    args = parser.parse_args()
    asyncio.run(main(args.concurrency, args.hold, args.json))
