"""Scaling policies outlive the autoscaler: a policy put through gRPC is there after a SIGTERM and a
restart, on the embedded SQLite file and on PostgreSQL; a deleted one stays deleted, and a database
URL of another scheme is refused at start naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grpc
import pytest

from meshserve.v1 import autoscaler_pb2 as pb
from meshserve.v1 import autoscaler_pb2_grpc as pb_grpc
from tests.procs import ROOT, start_service
from tests.servers import fresh_database

QUIET = {"MESHSERVE_AUTOSCALER_ENABLED": "false", "MESHSERVE_AUTOSCALER_METRICS_PERIOD_SECONDS": "60"}


def _policies(data_dir: Path, env: dict[str, str], change: bool) -> list[pb.Policy]:
    """Starts the autoscaler, optionally puts two policies and deletes one, lists them, stops it."""
    service = start_service("autoscaler", data_dir, {**QUIET, **env})
    try:
        with grpc.insecure_channel(service.address) as channel:
            stub = pb_grpc.AutoscalerServiceStub(channel)
            if change:
                for target in ("m", "gone"):
                    policy = pb.Policy(
                        target=target,
                        target_metric="queue_depth",
                        target_value=3,
                        min_replicas=0,
                        max_replicas=5,
                    )
                    stub.PutPolicy(pb.PutPolicyRequest(policy=policy), timeout=10)
                stub.DeletePolicy(pb.DeletePolicyRequest(target="gone"), timeout=10)
            listed = list(stub.ListPolicies(pb.ListPoliciesRequest(), timeout=10).policies)
    finally:
        assert service.terminate() == 0
    return listed


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_policy_survives_a_restart(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    env = {}
    if backend == "postgresql":
        env["MESHSERVE_AUTOSCALER_DATABASE_URL"] = fresh_database(request.getfixturevalue("postgres_url"))
    before = _policies(tmp_path, env, change=True)
    after = _policies(tmp_path, env, change=False)
    assert [p.target for p in after] == ["m"]
    assert after == before
    kept = after[0]
    assert (kept.target_metric, kept.target_value, kept.min_replicas, kept.max_replicas) == (
        "queue_depth",
        3,
        0,
        5,
    )
    if backend == "sqlite":
        assert (tmp_path / "autoscaler.db").is_file()


def test_a_database_url_of_another_scheme_is_refused_naming_the_setting(tmp_path: Path) -> None:
    env = {**QUIET, "MESHSERVE_AUTOSCALER_DATA_DIR": str(tmp_path), "MESHSERVE_AUTOSCALER_PORT": "0"}
    env["MESHSERVE_AUTOSCALER_DATABASE_URL"] = "mysql://somewhere/db"
    done = subprocess.run(
        [sys.executable, "-m", "services.autoscaler"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "database_url" in (done.stdout + done.stderr).lower()
