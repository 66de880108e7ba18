"""The soak benchmark's verdict on descriptors: a leak raises the floor, a request in flight does not."""

from __future__ import annotations

from collections import Counter

from bench.soak import Samples, trend

MIB = 2**20


def series(fds: list[int], spikes: dict[int, str] | None = None) -> Samples:
    """Flat memory, the given descriptor counts every 10 s, and sockets making up the counts (plus a
    named kind at the spiked samples)."""
    samples = Samples("process:1")
    for i, count in enumerate(fds):
        samples.points.append((10.0 * i, 100 * MIB, count))
        kinds = Counter({"socket": count})
        if spikes and i in spikes:
            kinds = Counter({"socket": count - 1, spikes[i]: 1})
        samples.kinds.append(kinds)
    return samples


def test_a_descriptor_held_only_at_one_sample_is_not_growth() -> None:
    fds = [20] * 30
    fds[27] = 21  # a request in flight at that instant
    found = trend(series(fds), after=0.0)
    assert found is not None
    assert found.fd_growth == 0 and found.passed


def test_a_descriptor_that_stays_is_growth_and_is_named() -> None:
    fds = [20] * 15 + [21] * 15
    found = trend(series(fds, {i: "/models/piper" for i in range(15, 30)}), after=0.0)
    assert found is not None
    assert found.fd_growth == 1 and not found.passed
    assert found.fds_gained == "/models/piper +1"


def test_memory_growth_beyond_the_target_fails() -> None:
    samples = series([20] * 30)
    samples.points = [(t, int(100 * MIB * (1 + 0.01 * i)), n) for i, (t, _, n) in enumerate(samples.points)]
    found = trend(samples, after=0.0)
    assert found is not None
    assert found.rss_growth > 0.10 and not found.passed
