"""bench/generate.py runs end to end on the session mesh (tiny sizes): llama.cpp in process, the worker
and the gateway at each concurrency, ratios to llama.cpp, the targets with pass or fail."""

from __future__ import annotations

import pytest

from bench.generate import bench, table, targets
from tests.procs import Mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]


async def test_bench_prints_both_paths_and_the_gateway_share(llm_mesh: Mesh) -> None:
    rows, gap, costs = await bench(
        llm_mesh.base_url, llm_mesh.address("inference"), 4, [1, 2], 1, pairs=2, with_features=True
    )
    assert [(r.path, r.streams) for r in rows] == [
        ("llama.cpp", 1),
        ("worker", 1),
        ("gateway", 1),
        ("llama.cpp", 2),
        ("worker", 2),
        ("gateway", 2),
    ]
    assert all(r.ttft_p50 > 0 and r.tokens_per_second > 0 for r in rows)
    printed = table(rows, 4)
    assert "| gateway | 2 |" in printed and "| llama.cpp | 2 |" in printed
    reference = next(r for r in rows if r.path == "llama.cpp" and r.streams == 2)
    gateway = next(r for r in rows if r.path == "gateway" and r.streams == 2)
    assert f"| {gateway.tokens_per_second / reference.tokens_per_second:.2f}x |" in printed
    lines = [line for line, _ in targets(rows)]
    assert len(lines) == 3
    assert "one stream through the gateway" in lines[0] and "llama.cpp's batched decode" in lines[2]
    assert gap is not None and len(gap.reference) == len(gap.worker) == len(gap.gateway) == 2
    assert (
        "llama.cpp p50" in gap.line() and "the gateway adds" in gap.line() and "target <= +5%" in gap.line()
    )
    assert costs is not None and costs.n4 > 0 and costs.separate_sequential > 0
    assert costs.itl_free > 0 and costs.itl_json > 0
    n_line, json_line = costs.lines()
    assert "n=4 in one request" in n_line and "one after another" in n_line
    assert "structured decoding (JSON Schema)" in json_line and "ms per token" in json_line
