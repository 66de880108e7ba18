"""Soak: mixed load at the saturation point for ``--minutes``, watching every process for leaks.

Starts its own mesh and runs the chaos benchmark's traffic (KServe predictions, short chats, TTS
through the gateway) from ``--concurrency`` clients. Every ``--every`` seconds it samples each
process of the mesh (the six services and each Triton worker): resident memory and open file
descriptors. After ``--warmup`` minutes it fits a line to each process's memory (least squares,
``statistics.linear_regression``) and reports the growth that line predicts over the measured span
as a share of the memory at its start, and the file descriptors' change (the fewest held in the
last third of the run against the fewest in the first: a leak raises that floor, a request in
flight at a sample's instant does not); p99 latency per kind is
reported for the first and the last measured minute (memory is private memory: RSS less
file-backed pages). Issue 17's targets: no process grows more
than 10% after warm-up, no descriptor growth, and p99 stays bounded (the last minute within 2x the
first).

    python bench/soak.py [--minutes 10] [--warmup 2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chaos import KINDS, MESH_ENV, Outcome, Traffic, warm_up
from tests.procs import Mesh, run_mesh

RSS_GROWTH_TARGET = 0.10
#: Descriptors a process may gain between the first and the last third of the run.
FD_GROWTH_TARGET = 0.0


@dataclass
class Samples:
    """One process's samples: (seconds since start, private resident bytes, open descriptors).

    Private is RSS less its file-backed pages (``shared``): a model file mapped by llama.cpp or ONNX
    Runtime pages in as requests touch more of it, which is not a leak; anonymous memory that keeps
    growing is."""

    name: str
    points: list[tuple[float, int, int]] = field(default_factory=list)
    #: What each sample's descriptors were, by kind (``socket``, ``pipe``, a file's directory...).
    kinds: list[Counter[str]] = field(default_factory=list)


def descriptor_kinds(pid: int) -> Counter[str]:
    """A process's open descriptors by kind: sockets, pipes, anonymous inodes, and files by their
    directory (so a gained descriptor can be named)."""
    kinds: Counter[str] = Counter()
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue  # closed while listing
        kind = target.split(":", 1)[0] if not target.startswith("/") else str(Path(target).parent)
        kinds[kind] += 1
    return kinds


def mesh_processes(mesh: Mesh) -> dict[str, psutil.Process]:
    """The services by name and the Triton workers as ``triton-<pid>``."""
    state = json.loads((mesh.data_dir / "launcher.json").read_text())["processes"]
    found = {name: psutil.Process(int(info["pid"])) for name, info in state.items()}
    for child in found["inference"].children():
        if child.name() == "tritonserver":
            found[f"triton-{child.pid}"] = child
    return found


async def sample(mesh: Mesh, every: float, stop: asyncio.Event, started: float) -> dict[str, Samples]:
    """Samples every process until stopped (a process that restarts starts a new series)."""
    series: dict[str, Samples] = {}
    while not stop.is_set():
        for name, process in mesh_processes(mesh).items():
            key = f"{name}:{process.pid}"
            try:
                with process.oneshot():
                    memory = process.memory_info()
                    private = memory.rss - getattr(memory, "shared", 0)
                    point = (time.monotonic() - started, private, process.num_fds())
                kinds = descriptor_kinds(process.pid)
            except (psutil.Error, OSError):
                continue
            samples = series.setdefault(key, Samples(key))
            samples.points.append(point)
            samples.kinds.append(kinds)
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass
    return series


@dataclass(frozen=True)
class Trend:
    """What a process's samples past warm-up show: private memory at the fit's start, the growth the
    fitted line predicts over the span (a share of that), and the open descriptors gained from the
    first third of the run to the last (the fewest held in each)."""

    rss_mib: float
    rss_growth: float
    fds: int
    fd_growth: float
    #: The kinds of descriptor held more at the end than at the fit's start (``socket +1``).
    fds_gained: str = ""

    @property
    def passed(self) -> bool:
        return self.rss_growth <= RSS_GROWTH_TARGET and self.fd_growth <= FD_GROWTH_TARGET


def trend(samples: Samples, after: float) -> Trend | None:
    """The trend of the samples past ``after`` seconds (None with fewer than three)."""
    points = [p for p in samples.points if p[0] >= after]
    if len(points) < 3:
        return None
    xs = [p[0] for p in points]
    span = xs[-1] - xs[0]
    rss = statistics.linear_regression(xs, [float(p[1]) for p in points])
    # Descriptors step rather than drift, and a request in flight holds some for a moment (a socket,
    # espeak's data directory). A leak raises the floor: growth is the fewest held in the last third
    # of the run over the fewest held in the first, so a descriptor open only at a sample's instant
    # does not count, and one that stays does.
    third = max(1, len(points) // 3)
    fd_growth = min(p[2] for p in points[-third:]) - min(p[2] for p in points[:third])
    start = rss.intercept + rss.slope * xs[0]
    kinds = samples.kinds[-len(points) :]
    fewest_early = min(range(third), key=lambda i: points[i][2])
    fewest_late = min(range(len(points) - third, len(points)), key=lambda i: points[i][2])
    gained = kinds[fewest_late] - kinds[fewest_early] if fd_growth > 0 else Counter()
    return Trend(
        start / 2**20,
        rss.slope * span / start if start else 0.0,
        points[0][2],
        float(fd_growth),
        ", ".join(f"{kind} +{n}" for kind, n in sorted(gained.items())),
    )


def p99(outcomes: list[Outcome], kind: str, since: float, until: float) -> float:
    """p99 latency (ms) of one kind's successful requests ending in a window."""
    latencies = sorted(
        (o.ended - o.started) * 1000
        for o in outcomes
        if o.kind == kind and o.status == 200 and since <= o.ended < until
    )
    return latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0


def render(
    series: dict[str, Samples], outcomes: list[Outcome], started: float, args: argparse.Namespace
) -> str:
    """The tables."""
    warm = args.warmup * 60
    lines = [
        f"{args.concurrency} clients cycling KServe predict, chat (4 tokens), TTS for {args.minutes:g} min; "
        f"samples every {args.every:g} s; fit after {args.warmup:g} min of warm-up",
        "",
        "| process | private memory at warm-up end MiB | its growth over the run | fds at warm-up end | fd growth over the run | pass |",
        "|---|---|---|---|---|---|",
    ]
    for key, samples in sorted(series.items()):
        found = trend(samples, warm)
        if found is None:
            continue  # restarted or gone before enough samples
        lines.append(
            f"| {key} | {found.rss_mib:.0f} | {found.rss_growth * 100:+.1f}% | {found.fds} | "
            f"{found.fd_growth:+.1f}{f' ({found.fds_gained})' if found.fds_gained else ''} | "
            f"{'PASS' if found.passed else 'FAIL'} |"
        )
    end = time.monotonic()
    first = (started + warm, started + warm + 60)
    last = (end - 60, end)
    lines += [
        "",
        "| kind | requests ok | failed | p99 ms, first measured minute | p99 ms, last minute | pass |",
    ]
    lines.append("|---|---|---|---|---|---|")
    for kind in KINDS:
        ok = sum(1 for o in outcomes if o.kind == kind and o.status == 200)
        failed = sum(1 for o in outcomes if o.kind == kind and o.status != 200)
        a, b = p99(outcomes, kind, *first), p99(outcomes, kind, *last)
        lines.append(
            f"| {kind} | {ok} | {failed} | {a:.1f} | {b:.1f} | {'PASS' if b <= 2 * a and not failed else 'FAIL'} |"
        )
    return "\n".join(lines)


async def soak(mesh: Mesh, args: argparse.Namespace) -> str:
    """Warms up, runs the traffic and the sampler, renders."""
    await warm_up(mesh.base_url)
    started = time.monotonic()
    traffic = Traffic(mesh.base_url, args.concurrency)
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample(mesh, args.every, stop, started))
    runner = asyncio.create_task(traffic.run())
    await asyncio.sleep(args.minutes * 60)
    traffic.stop()
    stop.set()
    await runner
    series = await sampler
    started_at = started  # the outcomes' clock is monotonic too
    return render(series, [o for o in traffic.outcomes if o.started >= started_at], started_at, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0, help="minutes before the fit starts")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, run_mesh(Path(tmp), MESH_ENV, preload_llm=True) as mesh:
        print(asyncio.run(soak(mesh, args)))


if __name__ == "__main__":
    main()
