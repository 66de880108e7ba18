"""A PostgreSQL restart is survived without restarting anything (real processes, a real cluster).

While the database is down a store's statement fails with BACKEND_UNAVAILABLE (503 with
Retry-After), never an internal error, and the service's readiness says NOT_SERVING; once the
database is back the same process is SERVING again by itself and answers from the same data.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from meshserve.v1 import auth_pb2, auth_pb2_grpc, registry_pb2, registry_pb2_grpc
from services.common.errors import BackendUnavailable, MeshError
from services.common.pg_sqldb import PostgresDatabase
from services.inference.jobs.pg_store import PostgresJobStore
from services.registry.pg_store import PostgresModelStore
from tests.procs import free_port
from tests.servers import fresh_database, pg_bin, postgres_server, start_postgres, stop_postgres
from tests.test_readiness import Lines, spawn_service, status, wait_for

pytestmark = pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL is not installed")


def _recovers(statement: Callable[[], object], seconds: float = 10) -> object:
    """Runs ``statement`` until it succeeds; every failure on the way must be BackendUnavailable."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return statement()
        except BackendUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_each_store_fails_as_unavailable_while_the_database_is_down_and_reconnects_after() -> None:
    with postgres_server() as server:
        url = fresh_database(server)
        registry = PostgresModelStore(url)
        jobs = PostgresJobStore(url)
        auth = PostgresDatabase(url)
        auth.script("CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL)")
        auth.execute("INSERT INTO notes (text) VALUES (?)", ("before",))
        statements: dict[str, Callable[[], object]] = {
            "registry": lambda: registry.sha_in_use(""),
            "jobs": lambda: jobs.run("SELECT 1").fetchone(),
            "auth": lambda: auth.all("SELECT text FROM notes"),
        }

        stop_postgres(server)
        for name, statement in statements.items():
            with pytest.raises(BackendUnavailable) as raised:
                statement()
            error: MeshError = raised.value
            assert error.code == "BACKEND_UNAVAILABLE" and error.http_status == 503, name
            assert error.retry_after >= 1, name
            assert "database is unreachable" in error.message or "cannot connect" in error.message, name

        start_postgres(server)
        assert _recovers(statements["registry"]) is False
        assert _recovers(statements["jobs"]) == (1,)
        assert _recovers(statements["auth"]) == [("before",)]
        # Writes work again, in transactions too.
        auth.execute_many("INSERT INTO notes (text) VALUES (?)", [("after",), ("again",)])
        assert [r[0] for r in auth.all("SELECT text FROM notes ORDER BY id")] == ["before", "after", "again"]
        for store in (registry, jobs, auth):
            store.close()


@pytest.mark.parametrize("service", ["registry", "auth"])
def test_a_service_turns_not_serving_with_its_database_and_serving_again_by_itself(
    service: str, tmp_path: Path
) -> None:
    upper, port = service.upper(), free_port()
    with postgres_server() as server:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "PYTHONUNBUFFERED": "1",
            "MESHSERVE_DATA_DIR": str(tmp_path),
            f"MESHSERVE_{upper}_PORT": str(port),
            f"MESHSERVE_{upper}_DATABASE_URL": fresh_database(server),
        }
        process = spawn_service(service, env)
        lines, address = Lines(process), f"127.0.0.1:{port}"
        channel = grpc.insecure_channel(address)

        def call() -> object:
            if service == "registry":
                return registry_pb2_grpc.RegistryServiceStub(channel).ListModels(
                    registry_pb2.ListModelsRequest(), timeout=10
                )
            return auth_pb2_grpc.AuthServiceStub(channel).ListRevocations(
                auth_pb2.ListRevocationsRequest(), timeout=10
            )

        try:
            wait_for(lambda: status(address) == "SERVING", 60, "serving")
            before = call()

            stop_postgres(server)
            wait_for(lambda: status(address) == "NOT_SERVING", 10, "NOT_SERVING without its database")
            assert status(address, "meshserve.liveness") == "SERVING"
            with pytest.raises(grpc.RpcError) as raised:
                call()
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE, raised.value.details()

            start_postgres(server)
            wait_for(lambda: status(address) == "SERVING", 15, "SERVING again once the database is back")
            assert call() == before
            assert process.poll() is None and lines.has("MESHSERVE_READY")
        finally:
            channel.close()
            process.terminate()
            process.wait(30)


def test_a_transaction_cut_by_a_restart_leaves_nothing_and_never_goes_on_elsewhere() -> None:
    from services.common.postgres import connect

    with postgres_server() as server:
        db = connect(fresh_database(server), "DATABASE_URL")
        db.execute("CREATE TABLE notes (text TEXT NOT NULL)")
        with pytest.raises(BackendUnavailable):
            with db.transaction():
                db.execute("INSERT INTO notes VALUES ('a')")
                stop_postgres(server)
                start_postgres(server)
                for text in ("b", "c"):  # neither may run on a fresh connection, outside the transaction
                    with pytest.raises(BackendUnavailable):
                        db.execute("INSERT INTO notes VALUES (%s)", (text,))
        assert _recovers(lambda: db.execute("SELECT text FROM notes").fetchall()) == []
        db.close()
