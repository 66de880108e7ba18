"""bench/speech.py runs against the session mesh and prints every row of issue 5's table."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.speech import MEASUREMENTS
from tests.procs import ROOT, Mesh

pytestmark = pytest.mark.slow


def test_speech_bench_prints_every_measurement_with_verdicts(speech_mesh: Mesh) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "bench/speech.py",
            "--repeats",
            "1",
            "--gateway",
            speech_mesh.base_url,
            "--speech",
            speech_mesh.address("speech"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {line[:33].strip(): line.split() for line in done.stdout.splitlines()}
    for name, target in MEASUREMENTS:
        assert name in rows, done.stdout
        cells = rows[name][len(name.split()) :]
        engine, grpc_, gateway = (float(cell) for cell in cells[:3])
        assert engine > 0 and grpc_ > 0 and gateway > 0, cells
        assert cells[3].endswith("%"), cells
        # A target row says pass or FAIL; the overhead verdict is always there.
        assert cells[-1] in ("pass", "FAIL"), cells
        assert cells[-2] in (("pass", "FAIL") if target is not None else ("-",)), cells
    assert "STT clip" in done.stdout and "(made by the TTS)" in done.stdout
