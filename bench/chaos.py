"""Faults under load: what a user sees when a Triton worker, a service or the registry dies while
mixed traffic runs.

Starts its own mesh (two Triton workers), drives KServe predictions, short chat completions and
text to speech through the gateway from ``--concurrency`` clients, and injects each fault in turn
with a quiet spell between them:

- ``kill -9`` a Triton worker holding the tensor model (a second worker holds it too);
- ``kill -9`` the inference service (the launcher restarts it; models load again on demand);
- ``kill -9`` the speech service;
- ``kill -9`` the auth service;
- ``SIGTERM`` the registry (a graceful stop, then the launcher's restart).

Per fault it prints the requests made and failed in the fault's window, how many of the failures
were sent after the fault (the rest were in flight when it struck), the statuses of the failures
(500s are never acceptable), the longest run of consecutive failures, and the time from the fault to
the last failure (how long until everything answered again), against the targets: a killed worker
costs nothing beyond what it had in flight and recovers within 5 s; a killed service recovers within
30 s; no 500 at any time; no failure of a request sent after the fault.

``--replicas`` runs two replicas of auth, registry, inference and speech over a real PostgreSQL and
Redis (as ``make up-replicas`` does), and each fault strikes the first replica: requests sent after
it go to the other. With one replica of each, the requests sent while a killed service restarts get
503 with ``Retry-After``; those count as failures here.

Nothing accepted may be lost: just before each fault a 003 job and a model upload are accepted, and
at the end every such job must have ended (``completed``, or ``failed`` with its reason; never
unknown, never stuck) and every such upload must be listed, ready.

    python bench/chaos.py [--concurrency 6] [--window 35] [--replicas]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.procs import RATE_LIMITS_OFF, Mesh, run_mesh
from tests.registry.test_crash_recovery import padded_onnx
from tests.servers import fresh_database, postgres_server, redis_server

MESH_ENV = {"MESHSERVE_INFERENCE_WORKERS": "2", **RATE_LIMITS_OFF}  # the load comes from one address
KINDS = ("predict", "chat", "tts")
NO_ANSWER = "no answer"
#: Seconds until everything answers again, per fault kind (issue 17's targets).
TARGET_RECOVERY = {"worker": 5.0, "service": 30.0}


@dataclass
class Outcome:
    """One request's end."""

    kind: str
    started: float
    ended: float
    status: int  # 0: no HTTP answer (connection refused or reset, timeout)
    detail: str = ""  # the start of a failure's body


@dataclass
class FaultReport:
    """What one fault did to the traffic in its window."""

    name: str
    kind: str
    at: float
    outcomes: list[Outcome] = field(default_factory=list)
    accepted: int = 0  # jobs and uploads accepted just before the fault
    lost: list[str] = field(default_factory=list)  # what of them was not there at the end

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != 200]

    @property
    def failed_after_fault(self) -> list[Outcome]:
        """Failures of requests sent after the fault struck (not in flight at that moment)."""
        return [o for o in self.failures if o.started > self.at]

    @property
    def recovered_after(self) -> float:
        """Seconds from the fault to the end of the last failed request (0 when none failed)."""
        return max((o.ended - self.at for o in self.failures), default=0.0)

    @property
    def longest_failure_run(self) -> int:
        """The most consecutive failures, in order of their ends."""
        run = best = 0
        for outcome in sorted(self.outcomes, key=lambda o: o.ended):
            run = run + 1 if outcome.status != 200 else 0
            best = max(best, run)
        return best

    @property
    def passed(self) -> bool:
        statuses = Counter(o.status for o in self.failures)
        on_time = self.recovered_after <= TARGET_RECOVERY[self.kind]
        return statuses[500] == 0 and on_time and not self.lost and not self.failed_after_fault


class Ledger:
    """Work accepted just before each fault (a 003 text job and a model upload), checked at the end."""

    def __init__(self) -> None:
        self.accepted: dict[str, list[tuple[str, str]]] = {}  # fault -> [("job"|"upload", id)]
        self._model = padded_onnx(2)

    async def accept(self, http: httpx.AsyncClient, fault: str) -> int:
        """Submits a job and an upload; how many the mesh accepted."""
        taken = self.accepted.setdefault(fault, [])
        job = {
            "job_type": "text_generation",
            "input_data": {"prompt": "Say hi.", "parameters": {"max_tokens": 4}},
        }
        reply = await http.post("/api/ai/advanced/job/submit", json=job)
        if reply.status_code in (200, 202):
            taken.append(("job", reply.json()["job_id"]))
        name = f"chaos-upload-{len(self.accepted)}"
        files = {"file": (f"{name}.onnx", self._model)}
        reply = await http.post("/v1/models", data={"name": name, "format": "onnx"}, files=files)
        if reply.status_code == 201:
            taken.append(("upload", name))
        return len(taken)

    async def lost(self, http: httpx.AsyncClient, fault: str, wait: float = 120.0) -> list[str]:
        """What of the fault's accepted work is missing: a job unknown or not ended within ``wait``
        seconds, an upload not listed as ready."""
        missing = []
        for what, key in self.accepted.get(fault, []):
            if what == "upload":
                reply = await http.get(f"/v1/models/{key}")
                if reply.status_code != 200 or reply.json().get("status") not in (
                    "ready",
                    "registered",
                    "loaded",
                ):
                    missing.append(f"upload {key} ({reply.status_code}: {reply.text[:80]})")
                continue
            deadline, state = time.monotonic() + wait, ""
            while time.monotonic() < deadline:
                reply = await http.get(f"/api/ai/advanced/job/{key}/status")
                state = reply.json().get("status", "") if reply.status_code == 200 else str(reply.status_code)
                if state in ("completed", "failed", "cancelled", "404"):
                    break
                await asyncio.sleep(1)
            if state not in ("completed", "failed"):
                missing.append(f"job {key} ({state})")
        return missing


class Traffic:
    """Mixed clients looping until stopped, recording every outcome."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self.base_url = base_url
        self.concurrency = concurrency
        self.outcomes: list[Outcome] = []
        self._stop = asyncio.Event()

    async def _one(self, http: httpx.AsyncClient, kind: str) -> tuple[int, str]:
        if kind == "predict":
            body = {"inputs": [{"name": "INPUT", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}
            reply = await http.post("/v2/models/example/infer", json=body)
        elif kind == "chat":
            chat = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4, "temperature": 0}
            reply = await http.post("/v1/chat/completions", json=chat)
        else:
            speech = {"model": "tts-1", "voice": "alloy", "input": "Hello there.", "response_format": "wav"}
            reply = await http.post("/v1/audio/speech", json=speech)
        return reply.status_code, "" if reply.status_code == 200 else reply.text[:300]

    async def _client(self, index: int) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as http:
            turn = index
            while not self._stop.is_set():
                kind = KINDS[turn % len(KINDS)]
                turn += 1
                started = time.monotonic()
                try:
                    status, detail = await self._one(http, kind)
                except httpx.HTTPError as error:
                    status, detail = 0, repr(error)
                    await asyncio.sleep(0.2)  # a refused connection fails at once: do not spin
                self.outcomes.append(Outcome(kind, started, time.monotonic(), status, detail))

    async def run(self) -> None:
        await asyncio.gather(*(self._client(i) for i in range(self.concurrency)))

    def stop(self) -> None:
        self._stop.set()


def launcher_pid(mesh: Mesh, name: str) -> int:
    return int(json.loads((mesh.data_dir / "launcher.json").read_text())["processes"][name]["pid"])


def worker_pids(mesh: Mesh) -> list[int]:
    inference = psutil.Process(launcher_pid(mesh, "inference"))
    return [p.pid for p in inference.children() if p.name() == "tritonserver"]


def faults(mesh: Mesh) -> list[tuple[str, str, Callable[[], None]]]:
    """(name, kind, action) of each fault, in order."""
    return [
        ("kill -9 a Triton worker", "worker", lambda: os.kill(worker_pids(mesh)[0], signal.SIGKILL)),
        ("kill -9 inference", "service", lambda: os.kill(launcher_pid(mesh, "inference"), signal.SIGKILL)),
        ("kill -9 speech", "service", lambda: os.kill(launcher_pid(mesh, "speech"), signal.SIGKILL)),
        ("kill -9 auth", "service", lambda: os.kill(launcher_pid(mesh, "auth"), signal.SIGKILL)),
        ("SIGTERM registry", "service", lambda: os.kill(launcher_pid(mesh, "registry"), signal.SIGTERM)),
    ]


async def warm_up(base_url: str) -> None:
    """Loads what the traffic uses on both workers (a first request per kind)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as http:
        traffic = Traffic(base_url, 1)
        for kind in KINDS:
            status, _ = await traffic._one(http, kind)
            if status != 200:
                raise RuntimeError(f"warm-up {kind} answered {status}")
        await http.post("/api/v1/models/example/load", json={"replicas": 2})


async def run(mesh: Mesh, concurrency: int, window: float, only: str = "") -> list[FaultReport]:
    """Runs the traffic and every fault (those whose name contains ``only``); one report per fault."""
    await warm_up(mesh.base_url)
    traffic, ledger = Traffic(mesh.base_url, concurrency), Ledger()
    runner = asyncio.create_task(traffic.run())
    reports = []
    async with httpx.AsyncClient(base_url=mesh.base_url, timeout=60) as http:
        try:
            await asyncio.sleep(5)  # steady state first
            for name, kind, action in (f for f in faults(mesh) if only in f[0]):
                accepted = await ledger.accept(http, name)
                at = time.monotonic()
                action()
                await asyncio.sleep(window)
                report = FaultReport(name, kind, at, accepted=accepted)
                report.outcomes = [o for o in traffic.outcomes if at <= o.ended < at + window]
                reports.append(report)
                print(f"  {name}: {len(report.failures)} of {len(report.outcomes)} failed", flush=True)
        finally:
            traffic.stop()
            await runner
        for report in reports:
            report.lost = await ledger.lost(http, report.name)
    return reports


def render(reports: list[FaultReport], concurrency: int, window: float) -> str:
    """The table."""
    lines = [
        f"mixed load: {concurrency} clients cycling KServe predict, chat (4 tokens), TTS; {window:.0f} s per fault",
        "",
        "| fault | requests | failed | sent after the fault | failed by kind | statuses of failures "
        "| longest failure run | answers again after | target | 500s | accepted work lost | pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        by_kind = Counter(o.kind for o in r.failures)
        statuses = Counter(o.status for o in r.failures)
        lines.append(
            f"| {r.name} | {len(r.outcomes)} | {len(r.failures)} | {len(r.failed_after_fault)} | "
            f"{', '.join(f'{k} {by_kind[k]}' for k in KINDS if by_kind[k]) or '-'} | "
            f"{', '.join(f'{s or NO_ANSWER}: {n}' for s, n in sorted(statuses.items())) or '-'} | "
            f"{r.longest_failure_run} | {r.recovered_after:.1f} s | <= {TARGET_RECOVERY[r.kind]:.0f} s | "
            f"{statuses[500]} | {len(r.lost)} of {r.accepted} | {'PASS' if r.passed else 'FAIL'} |"
        )
    lines.append("")
    for r in reports:
        seen: set[tuple[str, int]] = set()
        for o in r.failures:
            if (o.kind, o.status) not in seen:
                seen.add((o.kind, o.status))
                lines.append(f"{r.name}: first {o.kind} failure ({o.status or NO_ANSWER}): {o.detail}")
        lines.extend(f"{r.name}: lost {what}" for what in r.lost)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--window", type=float, default=35.0, help="seconds watched after each fault")
    parser.add_argument("--only", default="", help="run only the faults whose name contains this")
    parser.add_argument(
        "--replicas",
        action="store_true",
        help="two replicas of auth, registry, inference and speech over PostgreSQL and Redis",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        env = dict(MESH_ENV)
        if args.replicas:
            env |= {
                "MESHSERVE_REPLICAS": "auth=2,registry=2,inference=2,speech=2",
                "DATABASE_URL": fresh_database(stack.enter_context(postgres_server())),
                "REDIS_URL": stack.enter_context(redis_server()),
            }
        tmp = stack.enter_context(tempfile.TemporaryDirectory())
        mesh = stack.enter_context(run_mesh(Path(tmp), env, timeout=300, preload_llm=True))
        reports = asyncio.run(run(mesh, args.concurrency, args.window, args.only))
    print(render(reports, args.concurrency, args.window))


if __name__ == "__main__":
    main()
