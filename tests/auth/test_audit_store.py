"""The audit store keeps a batch whole: every event of it, in one transaction, or none, on SQLite
and on a real PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.auth.audit import AuditRecord, AuditStore, audit_time
from services.common.errors import InvalidInput
from services.common.pg_sqldb import open_database
from services.common.sqldb import SqlDatabase
from tests.servers import fresh_database


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> SqlDatabase:
    if request.param == "sqlite":
        return open_database("", tmp_path / "auth.db")
    return open_database(fresh_database(request.getfixturevalue("postgres_url")), tmp_path / "unused")


def event(n: int, user: str = "u1") -> AuditRecord:
    return AuditRecord(time=audit_time(1_800_000_000 + n), user_id=user, method="POST", path=f"/predict/{n}")


def test_a_batch_is_stored_and_read_back_newest_first(db: SqlDatabase) -> None:
    store = AuditStore(db)
    store.append([event(n) for n in range(250)])
    store.append([event(1000, user="u2")])
    rows = store.query("", "", "u1", 1000)
    assert [r.path for r in rows] == [f"/predict/{n}" for n in reversed(range(250))]
    assert [r.user_id for r in store.query("", "", "", 1)] == ["u2"]


def test_a_batch_that_fails_leaves_nothing_behind(db: SqlDatabase) -> None:
    store = AuditStore(db)
    broken = AuditRecord(time=audit_time(), user_id="u1", method="POST", path={"not": "a string"})  # type: ignore[arg-type]
    with pytest.raises(db.Error):  # neither driver binds a dict to a text column
        store.append([event(1), event(2), broken, event(3)])
    assert store.query("", "", "", 100) == []
    store.append([event(4)])  # the connection is usable afterwards
    assert [r.path for r in store.query("", "", "", 100)] == ["/predict/4"]


def test_time_bounds_are_days_or_rfc3339_times_in_any_offset(db: SqlDatabase) -> None:
    store = AuditStore(db)
    store.append([event(n) for n in (0, 3600, 7200)])  # 2027-01-15 08:00, 09:00 and 10:00 UTC
    paths = lambda since, until: [r.path for r in store.query(since, until, "", 100)]  # noqa: E731
    assert paths("2027-01-15", "2027-01-16") == ["/predict/7200", "/predict/3600", "/predict/0"]
    assert paths("2027-01-15T09:00", "") == ["/predict/7200", "/predict/3600"]
    assert paths("2027-01-15T11:00:00+02:00", "2027-01-15T10:00:00Z") == ["/predict/3600"]
    assert paths("", "2027-01-15 08:00:00.001+00:00") == ["/predict/0"]
    assert paths("2027-01-16", "") == []


@pytest.mark.parametrize(
    ("since", "until", "field"),
    [
        ("2026-13-45", "", "date_from"),
        ("", "yesterday", "date_to"),
        ("2026-02-30", "", "date_from"),
        ("2027-01-16", "2027-01-15", "date_from"),
    ],
)
def test_a_bad_time_bound_is_invalid_input_naming_its_field(
    db: SqlDatabase, since: str, until: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        AuditStore(db).query(since, until, "", 10)
    assert refused.value.details["field"] == field
