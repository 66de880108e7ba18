"""One test module for both job stores (SQLite and a real PostgreSQL): schema migrations, claims
with leases, fenced writes, hand-back, cancels, queue positions, and (PostgreSQL) claims racing
from two connections."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.errors import Cancelled
from services.inference.jobs import schema
from services.inference.jobs.pg_store import PostgresJobStore, open_job_store
from services.inference.jobs.records import ErrorInfo, ItemResult, ItemSpec, Job, JobConfig, State
from services.inference.jobs.store import JobStore, SqlJobStore
from tests.servers import fresh_database

LEASE = 30.0


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    return fresh_database(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(store_url: str, tmp_path: Path) -> Iterator[SqlJobStore]:
    opened = open_job_store(store_url, tmp_path / "unused.sqlite3")
    yield opened
    opened.close()


def new_job(name: str, priority: str = "normal", items: int = 1, seq: int | None = None) -> Job:
    return Job(
        job_id=f"job_{name}",
        job_type="batch",
        config=JobConfig(priority=priority),
        items=[ItemSpec("m", f"{name}-{i}") for i in range(items)],
        results=[ItemResult(index=i, model="m") for i in range(items)],
        seq=seq if seq is not None else time.time_ns() // 1000,
    )


def claimed(store: SqlJobStore, owner: str, now: float, lease: float = LEASE) -> Job:
    claim = store.claim(owner, now, lease)
    assert claim is not None
    return claim.job


def loaded(store: SqlJobStore, job_id: str) -> Job:
    job = store.load(job_id)
    assert job is not None
    return job


def test_a_new_store_is_at_the_latest_schema_and_round_trips_a_job(store: SqlJobStore) -> None:
    assert store.schema_version == schema.LATEST
    job = new_job("a", items=3)
    store.insert(job)
    loaded = store.load("job_a")
    assert loaded is not None
    assert (loaded.job_id, loaded.state, loaded.seq, len(loaded.results)) == (
        "job_a",
        State.QUEUED,
        job.seq,
        3,
    )
    assert [s.prompt for s in loaded.items] == ["a-0", "a-1", "a-2"]
    assert store.load("job_nope") is None


def test_claims_follow_priority_then_submission_and_hold_a_lease(store: SqlJobStore) -> None:
    store.insert(new_job("low", "low", seq=1))
    store.insert(new_job("normal", seq=2))
    store.insert(new_job("high", "high", seq=3))
    now = time.time()
    order = []
    while (claim := store.claim("A", now, LEASE)) is not None:
        order.append(claim.job.job_id)
        assert claim.takeovers == 0 and not claim.cancel_requested
    assert order == ["job_high", "job_normal", "job_low"]
    assert store.owner_of("job_high") == "A"
    # Leases held: nothing more to claim until they run out; then another runner takes them over.
    assert store.claim("B", now + LEASE - 1, LEASE) is None
    taken = store.claim("B", now + LEASE + 1, LEASE)
    assert taken is not None and taken.takeovers == 1 and store.owner_of(taken.job.job_id) == "B"


def test_writes_are_fenced_on_the_owner(store: SqlJobStore) -> None:
    store.insert(new_job("f"))
    now = time.time()
    job = claimed(store, "A", now)
    job.state = State.RUNNING
    assert store.update_job(job, "A")
    assert store.claim("B", now + LEASE + 1, LEASE) is not None  # A's lease ran out: B holds it
    job.results[0].state = State.COMPLETED
    assert not store.update_item("job_f", job.results[0], "A")
    job.state = State.COMPLETED
    assert not store.update_job(job, "A")
    assert loaded(store, "job_f").state == State.RUNNING
    assert store.update_item("job_f", job.results[0], "B")
    assert loaded(store, "job_f").results[0].state == State.COMPLETED


def test_renewal_keeps_the_lease_and_release_hands_jobs_back_uncounted(store: SqlJobStore) -> None:
    store.insert(new_job("r"))
    now = time.time()
    job = claimed(store, "A", now, 1.0)
    job.state = State.RUNNING
    store.update_job(job, "A")
    assert store.renew("A", now + LEASE) == {"job_r": False}
    assert store.claim("B", now + 2, LEASE) is None  # renewed past the first lease
    assert store.release("A") == 1
    claim = store.claim("B", now + 2, LEASE)
    assert claim is not None and claim.takeovers == 0  # a graceful hand-back is not a takeover
    assert store.renew("A", now + LEASE) == {}


def test_cancels_of_queued_and_running_jobs(store: SqlJobStore) -> None:
    store.insert(new_job("q"))
    store.insert(new_job("run"))
    error = ErrorInfo.of(Cancelled("cancelled before it ran"))
    assert store.cancel_queued("job_q", "B", error, time.time())
    assert loaded(store, "job_q").state == State.CANCELLED
    assert claimed(store, "A", time.time()).job_id == "job_run"
    running = loaded(store, "job_run")
    running.state = State.RUNNING
    store.update_job(running, "A")
    assert not store.cancel_queued("job_run", "B", error, time.time())  # it runs on A
    assert store.request_cancel("job_run")
    assert store.renew("A", time.time() + LEASE) == {"job_run": True}
    assert not store.request_cancel("job_q")  # already finished


def test_queue_position_counts_who_runs_first(store: SqlJobStore) -> None:
    jobs = [
        new_job("n1", seq=1),
        new_job("n2", seq=2),
        new_job("h", "high", seq=3),
        new_job("l", "low", seq=0),
    ]
    for job in jobs:
        store.insert(job)
    assert [store.queue_position(j) for j in jobs] == [1, 2, 0, 3]


def test_an_old_sqlite_file_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as db:  # a file written by the single-replica schema (version 1)
        db.executescript(";".join(schema.SQLITE.statements(1)))
        db.execute(
            "INSERT INTO jobs (job_id, seq, job_type, state, config, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            ("job_old", 7, "batch", "queued", '{"priority": "high", "retry": {}}', 1.0),
        )
    store = JobStore(path)
    try:
        assert store.schema_version == schema.LATEST
        claim = store.claim("A", time.time(), LEASE)
        assert claim is not None and claim.job.job_id == "job_old"
    finally:
        store.close()


def test_two_connections_racing_claim_each_job_once(postgres_url: str) -> None:
    url = fresh_database(postgres_url)
    stores = [PostgresJobStore(url), PostgresJobStore(url)]
    try:
        for i in range(40):
            stores[0].insert(new_job(f"{i:02d}", seq=i))
        claimed: dict[str, list[str]] = {"A": [], "B": []}

        def drain(name: str, store: SqlJobStore) -> None:
            while (claim := store.claim(name, time.time(), LEASE)) is not None:
                claimed[name].append(claim.job.job_id)

        threads = [threading.Thread(target=drain, args=(n, s)) for n, s in zip("AB", stores, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        every = claimed["A"] + claimed["B"]
        assert sorted(every) == [f"job_{i:02d}" for i in range(40)]  # each once, none lost
        assert claimed["A"] and claimed["B"]  # both runners got work
    finally:
        for store in stores:
            store.close()


def test_a_bad_database_url_names_the_setting(tmp_path: Path) -> None:
    from services.common.settings import ConfigurationError
    from tests.procs import free_port

    with pytest.raises(ConfigurationError, match=r"MESHSERVE_INFERENCE_DATABASE_URL.*cannot connect"):
        open_job_store(f"postgresql://nobody:secret@127.0.0.1:{free_port()}/x", tmp_path / "x")
    with pytest.raises(ConfigurationError, match="MESHSERVE_INFERENCE_DATABASE_URL"):
        open_job_store("mysql://x/y", tmp_path / "x")


def test_a_premium_submitter_gets_a_head_start_that_ages(store: SqlJobStore) -> None:
    """Among jobs of one priority level, a plan's head start puts its job ahead of jobs submitted
    less than that long before it, but not ahead of older ones: lower plans are never starved."""
    now = time.time()
    older = new_job("free_old", seq=1)
    older.created_at = now - 120  # waited longer than pro's head start of 60 s
    free = new_job("free", seq=2)
    free.created_at = now - 30
    pro = new_job("pro", seq=3)
    pro.created_at = now
    pro.config = JobConfig(head_start_seconds=60.0)
    for job in (older, free, pro):
        store.insert(job)
    assert [store.queue_position(j) for j in (older, free, pro)] == [0, 2, 1]
    order = [claimed(store, "A", now).job_id for _ in range(3)]
    assert order == ["job_free_old", "job_pro", "job_free"]
