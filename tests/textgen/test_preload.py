"""Preload: the session mesh loads the default language model at start, once, in the background."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.procs import Mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]

MODEL = "smollm2-135m-instruct"


def log_records(path: Path) -> list[dict[str, Any]]:
    """The JSON log lines of one process."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_default_model_is_preloaded_once(llm_mesh: Mesh) -> None:
    """The inference log shows the preload start and end; Triton loaded the model once, although the
    warm-up request of ``llm_mesh`` arrived while the preload was still running."""
    records = log_records(llm_mesh.data_dir / "logs" / "inference.jsonl")
    started = [r for r in records if r["msg"] == "preloading language model"]
    finished = [r for r in records if r["msg"] == "language model preloaded"]
    assert [r["model"] for r in started] == [MODEL]
    assert [r["model"] for r in finished] == [MODEL]
    assert finished[0]["seconds"] > 0 and finished[0]["worker"]
    worker_logs = (llm_mesh.data_dir / "inference" / "triton" / "logs").glob("*.log")
    loads = sum(
        p.read_text(errors="replace").count(f"successfully loaded 'llm--{MODEL}'") for p in worker_logs
    )
    assert loads == 1
