"""Log files are read, filtered and cleared without leaving their directory; a service process serves
its Prometheus metrics on ``metrics_port`` (no mesh, no Triton)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from services.common.errors import InvalidInput, NotFound
from services.common.logs import LogDirectory, configure_logging
from tests.procs import free_port, start_service


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "logs"
    monkeypatch.setenv("MESHSERVE_LOG_DIR", str(directory))
    monkeypatch.setenv("MESHSERVE_LOG_MAX_BYTES", "2000")
    monkeypatch.setenv("MESHSERVE_LOG_BACKUPS", "2")
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("unit", "DEBUG")
    yield directory
    for handler in root.handlers:
        handler.close()
    root.handlers[:], root.level = saved


def test_json_lines_rotate_and_are_queried_by_level_and_time(log_dir: Path) -> None:
    log = logging.getLogger("unit.test")
    for i in range(40):
        log.info("step", extra={"i": i})
    log.warning("slow call", extra={"ms": 812})
    names = {f.name for f in LogDirectory(log_dir).files()}
    assert {"unit.jsonl", "unit.jsonl.1"} <= names  # rotated at 2000 bytes
    first = json.loads((log_dir / "unit.jsonl").read_text().splitlines()[0])
    assert first["service"] == "unit" and first["level"] in ("info", "warning")
    entries, total = LogDirectory(log_dir).query("warning", 10)
    assert [e.message for e in entries] == ["slow call"] and entries[0].metadata["ms"] == 812
    assert total > 1
    newest, _ = LogDirectory(log_dir).query("debug", 3)
    assert len(newest) == 3 and newest[0].timestamp >= newest[-1].timestamp
    future, _ = LogDirectory(log_dir).query("info", 10, datetime(2999, 1, 1, tzinfo=UTC))
    assert future == []
    with pytest.raises(InvalidInput):
        LogDirectory(log_dir).query("loud")


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "..", "/etc/passwd", "sub/../unit.jsonl", ".hidden", "a\\..\\b", "", "x" * 200],
)
def test_names_outside_the_directory_are_refused(log_dir: Path, name: str) -> None:
    with pytest.raises(InvalidInput):
        LogDirectory(log_dir).read(name)
    with pytest.raises(InvalidInput):
        LogDirectory(log_dir).clear(name)


def test_links_and_missing_files_are_not_served(log_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    (log_dir / "link.log").symlink_to(secret)
    directory = LogDirectory(log_dir)
    assert "link.log" not in {f.name for f in directory.files()}
    with pytest.raises(NotFound):
        directory.read("link.log")
    with pytest.raises(NotFound):
        directory.read("absent.log")


def test_clear_empties_the_file_and_logging_goes_on(log_dir: Path) -> None:
    logging.getLogger("unit").info("before")
    directory = LogDirectory(log_dir)
    assert directory.clear("unit.jsonl") > 0
    assert directory.read("unit.jsonl") == ""
    logging.getLogger("unit").info("after")
    assert '"msg": "after"' in directory.read("unit.jsonl", tail_lines=1)


def test_a_service_serves_prometheus_metrics(tmp_path: Path) -> None:
    port = free_port()
    proc = start_service(
        "autoscaler",
        tmp_path,
        env={
            "MESHSERVE_AUTOSCALER_METRICS_PORT": str(port),
            "MESHSERVE_AUTOSCALER_PERIOD_SECONDS": "0.2",
            "MESHSERVE_INFERENCE_ADDRESS": f"127.0.0.1:{free_port()}",
        },
    )
    try:
        text = ""
        for _ in range(50):
            text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            if 'meshserve_autoscaler_evaluations_total{outcome="stats_unavailable"}' in text:
                break
            time.sleep(0.1)  # the first evaluation runs within one period
        assert 'meshserve_autoscaler_evaluations_total{outcome="stats_unavailable"}' in text
        assert "meshserve_autoscaler_decisions_total" in text or "# HELP meshserve_autoscaler" in text
    finally:
        assert proc.terminate() == 0


def test_the_first_cpu_sample_of_a_process_is_measured() -> None:
    """psutil's first CPU reading in a process is a constant 0.0; the metrics module takes it at
    import, so a process's first sample measures the time since (here: a busy loop)."""
    code = (
        "import time\n"
        "from services.common.metrics import host_snapshot\n"
        "end = time.monotonic() + 0.5\n"
        "while time.monotonic() < end: pass\n"
        "print(host_snapshot().cpu_percent)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert float(done.stdout.strip()) > 0.0
