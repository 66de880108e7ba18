"""User accounts in SQLite with argon2id password hashes. No transport imports."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher

from services.common.errors import AlreadyExists, InvalidInput, NotFound

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class UserRecord:
    """A stored user (the hash never leaves this module's callers' process)."""

    id: str
    username: str
    email: str
    password_hash: str
    role: str
    plan: str
    created_at: str


class UserStore:
    """Users with argon2id password hashes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()
        self.hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults

    def register(
        self, username: str, email: str, password: str, role: str = "write", plan: str = "free"
    ) -> UserRecord:
        """Creates a user after validating every field."""
        if not _USERNAME.match(username):
            raise InvalidInput(
                "username must be 3-64 letters, digits, '.', '_' or '-'", details={"field": "username"}
            )
        if not _EMAIL.match(email):
            raise InvalidInput("email is not a valid address", details={"field": "email"})
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(
                f"password must be at least {MIN_PASSWORD} characters",
                details={"field": "password", "min_length": MIN_PASSWORD},
            )
        record = UserRecord(
            id=f"user-{uuid.uuid4().hex[:12]}",
            username=username,
            email=email.lower(),
            password_hash=self.hasher.hash(password),
            role=role,
            plan=plan,
            created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        )
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        record.username,
                        record.email,
                        record.password_hash,
                        record.role,
                        record.plan,
                        record.created_at,
                    ),
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(
                "username or email already registered", details={"field": "username"}
            ) from None
        return record

    def get(self, user_id: str) -> UserRecord:
        """A user by id."""
        with self._lock:
            row = self._db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise NotFound(f"user {user_id!r} not found", details={"user_id": user_id})
        return UserRecord(*row)
