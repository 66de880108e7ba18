"""bench/generate.py runs end to end on the session mesh (tiny sizes) and prints what issue 4 asks."""

from __future__ import annotations

import pytest

from bench.generate import bench, table
from tests.procs import Mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]


async def test_bench_prints_both_paths_and_the_gateway_share(llm_mesh: Mesh) -> None:
    rows, gap = await bench(llm_mesh.base_url, llm_mesh.address("inference"), 4, [1, 2], 1, pairs=2)
    assert [(r.path, r.streams) for r in rows] == [
        ("worker", 1),
        ("gateway", 1),
        ("worker", 2),
        ("gateway", 2),
    ]
    assert all(r.ttft_p50 > 0 and r.tokens_per_second > 0 for r in rows)
    printed = table(rows, 4)
    assert "2 streams give" in printed and "| gateway | 2 |" in printed
    assert gap is not None and len(gap.worker) == len(gap.gateway) == 2
    assert "the gateway adds" in gap.line() and "target <= +5%" in gap.line()
