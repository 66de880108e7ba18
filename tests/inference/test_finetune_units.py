"""Fine-tuning's parts: validation naming the field; runs a stopped service left unfinished marked
failed at its next start (private store) but not on a shared one; over a shared store, a cancel
asked through another replica reaching the owner, and a run whose replica is gone ended once its
lease runs out; and a training process that dies without an error line of its own reported by its
signal, or by its exit code and last words."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import psutil
import pytest

from services.common.bundled import SMOLLM2_GGUF
from services.common.errors import InvalidInput
from services.inference.finetune.drivers import LocalDriver, exit_message, last_line
from services.inference.finetune.leases import RunLeases
from services.inference.finetune.runs import FineTuneRecord, FineTuneRuns
from services.inference.finetune.spec import FineTuneSettings, TrainingConfig, validated
from services.inference.jobs.pg_store import open_job_store
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.webhooks import WebhookHub
from tests.servers import fresh_database

PAIR = [("user", "Hi"), ("assistant", "Ahoy!")]


def refused(**kw: Any) -> str:
    args: dict[str, Any] = {
        "base_model": "m",
        "output_name": "",
        "examples": [PAIR],
        "config": TrainingConfig(),
        "settings": FineTuneSettings(max_examples=3, max_example_chars=50),
    }
    with pytest.raises(InvalidInput) as info:
        validated(**{**args, **kw})
    return str(info.value.details["field"])


def test_validation_names_the_field() -> None:
    assert refused(examples=[]) == "training_data"
    assert refused(examples=[PAIR] * 4) == "training_data"
    assert refused(examples=[[("user", "Hi")]]) == "training_data[0]"
    assert refused(examples=[PAIR, [("robot", "x"), ("assistant", "y")]]) == "training_data[1]"
    assert refused(examples=[[("user", "x" * 60), ("assistant", "y")]]) == "training_data[0]"
    assert refused(config=TrainingConfig(epochs=0)) == "config.epochs"
    assert refused(config=TrainingConfig(validation_split=0.9)) == "config.validation_split"
    assert refused(output_name="bad name!") == "output_name"
    spec = validated("m", "", [PAIR], TrainingConfig(), FineTuneSettings())
    assert spec.output_name == "m-ft" and len(spec.dataset_sha256) == 64


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_runs_left_unfinished_fail_at_the_next_start_of_a_private_store(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    if backend == "postgres":
        url = fresh_database(request.getfixturevalue("postgres_url"))
    store = open_job_store(url, tmp_path / "unused")
    runs = FineTuneRuns(
        store, cast(Any, None), cast(Any, None), WebhookHub(store, JobSettings()), FineTuneSettings()
    )
    runs._insert(FineTuneRecord("ft_1", "training", "m", "m-ft", "0" * 64, {}))
    runs._insert(FineTuneRecord("ft_2", "succeeded", "m", "m-ft", "0" * 64, {}))
    if backend == "sqlite":
        assert runs.recover() == 1
        assert runs.get("ft_1").status == "failed" and "interrupted" in runs.get("ft_1").error
    else:  # another replica may be running it
        assert runs.recover() == 0 and runs.get("ft_1").status == "training"
    assert runs.get("ft_2").status == "succeeded"
    store.close()


async def test_a_worker_killed_outright_is_reported_by_its_signal(tmp_path: Path) -> None:
    spec = {"source": str(SMOLLM2_GGUF.path), "examples": [], "config": {"seed": 0}, "max_tokens": 16}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    events = []
    async for event in LocalDriver().events("ft_test", tmp_path):
        events.append(event)
        if event["event"] == "loading":  # as the out-of-memory killer would
            (worker,) = [c for c in psutil.Process().children() if "finetune.worker" in " ".join(c.cmdline())]
            worker.kill()
    assert [event["event"] for event in events] == ["loading", "exit"]
    assert exit_message(events[-1]) == "the training process was killed by SIGKILL"


def test_an_exit_code_comes_with_the_last_line_the_worker_wrote(tmp_path: Path) -> None:
    errors = tmp_path / "worker.stderr"
    errors.write_text(
        "Loading weights: 100%|##########| 272/272\rTraceback ...\nMemoryError: out of memory\n\n"
    )
    said = exit_message({"event": "exit", "code": 1, "stderr": last_line(errors)})
    assert said == "the training process exited with code 1: MemoryError: out of memory"
    assert last_line(tmp_path / "missing") == "" and exit_message({"code": 2}).endswith("code 2")


def shared_runs(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, lease_seconds: float
) -> tuple[Any, list[FineTuneRuns]]:
    """Two replicas' runs over one store (SQLite file or PostgreSQL), each with its own lease."""
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    if backend == "postgres":
        url = fresh_database(request.getfixturevalue("postgres_url"))
    store = open_job_store(url, tmp_path / "unused")
    hub = WebhookHub(store, JobSettings())
    replicas = [
        FineTuneRuns(
            store,
            cast(Any, None),
            cast(Any, None),
            hub,
            FineTuneSettings(),
            leases=RunLeases(store, lease_seconds, owner=name),
        )
        for name in ("a", "b")
    ]
    return store, replicas


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_cancel_asked_through_another_replica_reaches_the_owner(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store, (a, b) = shared_runs(backend, tmp_path, request, lease_seconds=60)
    a._insert(FineTuneRecord("ft_1", "training", "m", "m-ft", "0" * 64, {}))
    a.leases.take("ft_1", time.time())
    b.leases.ask_to_cancel("ft_1")
    assert b.leases.renew(time.time(), []) == []  # nothing trains on b
    assert a.leases.renew(time.time(), ["ft_1"]) == ["ft_1"]
    assert a.leases.end_abandoned(time.time()) == []  # its lease holds
    assert a.get("ft_1").status == "training"
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_run_whose_replica_is_gone_ends_once_its_lease_runs_out(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store, (a, b) = shared_runs(backend, tmp_path, request, lease_seconds=0.3)
    for run_id in ("ft_lost", "ft_cancelled"):
        a._insert(FineTuneRecord(run_id, "training", "m", "m-ft", "0" * 64, {}))
        a.leases.take(run_id, time.time())  # then replica a is killed: nothing renews
    a._insert(FineTuneRecord("ft_done", "succeeded", "m", "m-ft", "0" * 64, {}))
    # A cancel through replica b waits for the owner, which is gone: the run ends with the lease.
    cancelled = await b.cancel("ft_cancelled")
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    lost = b.get("ft_lost")
    assert lost.status == "failed" and "replica running it stopped" in lost.error
    assert b.get("ft_done").status == "succeeded"
    assert b.leases.end_abandoned(time.time() + 60) == []  # each run ended once
    # Had replica a only stalled, its next look stops the run, and what it writes after is not kept.
    assert sorted(a.leases.renew(time.time(), ["ft_lost", "ft_done"])) == ["ft_done", "ft_lost"]
    assert not a._save(a.get("ft_lost"), status="succeeded", output_version="1")
    assert a.get("ft_lost").status == "failed" and a.get("ft_lost").output_version == ""
    store.close()
