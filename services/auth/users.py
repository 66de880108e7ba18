"""User accounts in SQLite with argon2id password hashes. No transport imports."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.common.errors import AlreadyExists, AuthenticationFailed, InvalidInput, NotFound
from services.common.sqldb import SqlDatabase

_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
ROLES = ("read", "write", "admin")
PLANS = ("free", "pro", "enterprise")

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


def now_rfc3339() -> str:
    """Current UTC time, RFC 3339."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class UserStore:
    """Users with argon2id password hashes."""

    def __init__(self, db: SqlDatabase) -> None:
        self._db = db
        self._db.script(SCHEMA)
        self.hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
        # Verified against unknown logins so that they cost as much as known ones.
        self._dummy_hash = self.hasher.hash(uuid.uuid4().hex)

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
        if role not in ROLES or plan not in PLANS:
            raise InvalidInput("unknown role or plan", details={"role": role, "plan": plan})
        record = UserRecord(
            id=f"user-{uuid.uuid4().hex[:12]}",
            username=username,
            email=email.lower(),
            password_hash=self.hasher.hash(password),
            role=role,
            plan=plan,
            created_at=now_rfc3339(),
        )
        try:
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
        except self._db.IntegrityError:
            raise AlreadyExists(
                "username or email already registered", details={"field": "username"}
            ) from None
        return record

    def get(self, user_id: str) -> UserRecord:
        """A user by id."""
        row = self._db.one("SELECT * FROM users WHERE id = ?", (user_id,))
        if row is None:
            raise NotFound(f"user {user_id!r} not found", details={"user_id": user_id})
        return UserRecord(*row)

    def find(self, login: str) -> UserRecord | None:
        """A user by username or email, if any."""
        row = self._db.one(
            "SELECT * FROM users WHERE username = ? OR email = ?", (login, login.strip().lower())
        )
        return UserRecord(*row) if row else None

    def verify(self, login: str, password: str) -> UserRecord:
        """The user whose password matches, or :class:`AuthenticationFailed` (same cost either way)."""
        user = self.find(login)
        try:
            self.hasher.verify(user.password_hash if user else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            raise AuthenticationFailed(
                "invalid username or password", details={"field": "password"}
            ) from None
        if user is None:
            raise AuthenticationFailed("invalid username or password", details={"field": "password"})
        return user

    def ensure_admin(self, username: str, email: str, password: str) -> UserRecord | None:
        """Creates the bootstrap admin unless a user of that name already exists."""
        if not username or not password or self.find(username) is not None:
            return None
        return self.register(
            username, email or f"{username}@localhost.localdomain", password, "admin", "enterprise"
        )
