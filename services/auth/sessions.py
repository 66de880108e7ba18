"""Sessions: refresh-token families rotated on use, and the revocation log. No transport imports.

Each login opens a family. A refresh token is good once: using it marks it used and yields the
next one of the same family. Presenting a used token again means it leaked, so the whole family
is revoked, and with it every access token carrying its session id (the gateway learns that from
the revocation log). Only SHA-256 digests of refresh tokens are stored: they are 256-bit random.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from services.common.errors import AuthenticationFailed
from services.common.sqldb import SqlDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    digest TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS revocations (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ident TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Revocation:
    """One revoked session or key."""

    sequence: int
    kind: str
    ident: str
    expires_at: int


def digest(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


class SessionStore:
    """Refresh-token families and the revocation log."""

    def __init__(self, db: SqlDatabase, refresh_ttl_seconds: int, access_ttl_seconds: int) -> None:
        self._db = db
        self._db.script(SCHEMA)
        self.refresh_ttl = refresh_ttl_seconds
        self.access_ttl = access_ttl_seconds

    def open(self, user_id: str) -> tuple[str, str]:
        """A new session and its first refresh token."""
        session_id = f"ses-{uuid.uuid4().hex[:16]}"
        self._db.execute("INSERT INTO sessions VALUES (?, ?, ?, NULL)", (session_id, user_id, time.time()))
        return session_id, self._mint(session_id)

    def rotate(self, refresh_token: str) -> tuple[str, str, str]:
        """(user id, session id, next refresh token); a reused token revokes its family."""
        row = self._db.one(
            "SELECT r.session_id, r.expires_at, r.used_at, s.user_id, s.revoked_at "
            "FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE r.digest = ?",
            (digest(refresh_token),),
        )
        if row is None:
            raise _refused("unknown refresh token")
        session_id, expires_at, used_at, user_id, revoked_at = row
        if revoked_at is not None:
            raise _refused("the session of this refresh token was revoked")
        if used_at is not None:
            self.revoke(session_id)
            raise _refused(
                "refresh token reused: the session was revoked",
                details={"reason": "refresh_token_reuse", "session_id": session_id},
            )
        if expires_at < time.time():
            raise _refused("refresh token expired")
        # Mark used only if still unused, so two concurrent rotations cannot both win.
        if not self._db.execute(
            "UPDATE refresh_tokens SET used_at = ? WHERE digest = ? AND used_at IS NULL",
            (time.time(), digest(refresh_token)),
        ):
            self.revoke(session_id)
            raise _refused("refresh token reused: the session was revoked")
        return user_id, session_id, self._mint(session_id)

    def revoke(self, session_id: str) -> bool:
        """Revokes a session (idempotent); logs it for gateways. True when it was live."""
        changed = self._db.execute(
            "UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (time.time(), session_id),
        )
        if changed:
            # Access tokens of the session die by themselves after one access lifetime.
            self.log_revocation("session", session_id, int(time.time()) + self.access_ttl + 60)
        return bool(changed)

    def is_revoked(self, session_id: str) -> bool:
        """Whether a session is revoked or unknown."""
        row = self._db.one("SELECT revoked_at FROM sessions WHERE id = ?", (session_id,))
        return row is None or row[0] is not None

    def log_revocation(self, kind: str, ident: str, expires_at: int) -> None:
        """Appends to the revocation log."""
        self._db.execute(
            "INSERT INTO revocations (kind, ident, expires_at, created_at) VALUES (?, ?, ?, ?)",
            (kind, ident, expires_at, time.time()),
        )

    def revocations_after(self, sequence: int) -> tuple[list[Revocation], int]:
        """Entries after a sequence number that still matter, and the last sequence number."""
        now = int(time.time())
        rows = self._db.all(
            "SELECT sequence, kind, ident, expires_at FROM revocations "
            "WHERE sequence > ? AND (expires_at = 0 OR expires_at > ?) ORDER BY sequence",
            (sequence, now),
        )
        last = self._db.one("SELECT COALESCE(MAX(sequence), 0) FROM revocations")
        return [Revocation(*r) for r in rows], int(last[0] if last else 0)

    def _mint(self, session_id: str) -> str:
        token = f"rt_{secrets.token_urlsafe(32)}"
        self._db.execute(
            "INSERT INTO refresh_tokens VALUES (?, ?, ?, NULL)",
            (digest(token), session_id, time.time() + self.refresh_ttl),
        )
        return token


def _refused(message: str, details: dict[str, str] | None = None) -> AuthenticationFailed:
    return AuthenticationFailed(
        message, details=details or {"credential": "refresh_token"}, suggestion="log in again"
    )
