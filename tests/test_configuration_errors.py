"""A setting a process cannot use stops it at start, exit code 2, with a message naming the
setting: a database still unreachable after the start wait, a URL with a bad scheme (real processes,
real sockets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.procs import ROOT, free_port


def start(module: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    clean.update({"MESHSERVE_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=90
    )


@pytest.mark.parametrize("service", ["inference", "registry", "auth"])
def test_an_unreachable_database_stops_the_service_naming_the_setting(service: str, tmp_path: Path) -> None:
    url = f"postgresql://meshserve:hunter2@127.0.0.1:{free_port()}/meshserve"
    upper = service.upper()
    # It waits (alive, NOT_SERVING) this long for the database before it gives up.
    wait = {f"MESHSERVE_{upper}_START_WAIT_SECONDS": "2"}
    done = start(
        f"services.{service}", tmp_path, DATABASE_URL=url, **{f"MESHSERVE_{upper}_PORT": "0"}, **wait
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"MESHSERVE_{service.upper()}_DATABASE_URL" in done.stderr and "cannot connect" in done.stderr
    assert "hunter2" not in done.stderr  # the password is not printed


def test_a_bad_scheme_stops_the_service_naming_the_setting(tmp_path: Path) -> None:
    done = start("services.inference", tmp_path, MESHSERVE_INFERENCE_DATABASE_URL="mysql://db/x")
    assert done.returncode == 2 and "MESHSERVE_INFERENCE_DATABASE_URL" in done.stderr
    assert "unsupported scheme 'mysql'" in done.stderr


def test_a_redis_url_with_a_bad_scheme_stops_the_gateway(tmp_path: Path) -> None:
    done = start("gateway", tmp_path, REDIS_URL="http://cache:6379", MESHSERVE_GATEWAY_PORT=str(free_port()))
    assert done.returncode == 2, done.stderr[-2000:]
    assert "MESHSERVE_GATEWAY_REDIS_URL" in done.stderr and "unsupported scheme 'http'" in done.stderr
