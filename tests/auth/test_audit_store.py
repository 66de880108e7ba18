"""The audit store keeps a batch whole: every event of it, in one transaction, or none."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.auth.audit import AuditRecord, AuditStore, audit_time
from services.auth.db import Database


def event(n: int, user: str = "u1") -> AuditRecord:
    return AuditRecord(time=audit_time(1_800_000_000 + n), user_id=user, method="POST", path=f"/predict/{n}")


def test_a_batch_is_stored_and_read_back_newest_first(tmp_path: Path) -> None:
    store = AuditStore(Database(tmp_path / "auth.db"))
    store.append([event(n) for n in range(250)])
    store.append([event(1000, user="u2")])
    rows = store.query("", "", "u1", 1000)
    assert [r.path for r in rows] == [f"/predict/{n}" for n in reversed(range(250))]
    assert [r.user_id for r in store.query("", "", "", 1)] == ["u2"]


def test_a_batch_that_fails_leaves_nothing_behind(tmp_path: Path) -> None:
    store = AuditStore(Database(tmp_path / "auth.db"))
    broken = AuditRecord(time=audit_time(), user_id="u1", method="POST", path={"not": "a string"})  # type: ignore[arg-type]
    with pytest.raises(sqlite3.Error):  # sqlite3 refuses to bind a dict
        store.append([event(1), event(2), broken, event(3)])
    assert store.query("", "", "", 100) == []
    store.append([event(4)])  # the connection is usable afterwards
    assert [r.path for r in store.query("", "", "", 100)] == ["/predict/4"]
