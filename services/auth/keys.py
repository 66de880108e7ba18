"""API keys: shown once, stored as SHA-256 digests, each with a role, a plan and an optional expiry.

A key reads ``msk_<id>_<secret>``: the id finds the row, the digest of the whole key must match.
Keys carry 256 random bits, so a fast digest is safe here and keeps look-ups cheap. No transport.
"""

from __future__ import annotations

import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

from services.auth.sessions import SessionStore, digest
from services.auth.users import PLANS, ROLES, now_rfc3339
from services.common.errors import AuthenticationFailed, InvalidInput, NotFound
from services.common.sqldb import SqlDatabase

KEY_PREFIX = "msk_"
SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    digest TEXT NOT NULL,
    role TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at REAL,
    revoked_at REAL
);
"""


@dataclass(frozen=True)
class KeyRecord:
    """A stored key (never its secret)."""

    id: str
    user_id: str
    name: str
    prefix: str
    digest: str
    role: str
    plan: str
    created_at: str
    expires_at: float | None
    revoked_at: float | None

    @property
    def expires_rfc3339(self) -> str:
        """Expiry as RFC 3339, empty for none."""
        if self.expires_at is None:
            return ""
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at))


def looks_like_key(credential: str) -> bool:
    """Whether a credential has the shape of an API key."""
    return credential.startswith(KEY_PREFIX) and credential.count("_") >= 2


class KeyStore:
    """API keys of every user."""

    def __init__(self, db: SqlDatabase, sessions: SessionStore) -> None:
        self._db = db
        self._db.script(SCHEMA)
        self._sessions = sessions

    def create(
        self, user_id: str, name: str, role: str, plan: str, ttl_seconds: int
    ) -> tuple[KeyRecord, str]:
        """A new key and its secret (the only time the secret exists outside the caller)."""
        if role not in ROLES or plan not in PLANS:
            raise InvalidInput("unknown role or plan", details={"role": role, "plan": plan})
        if ttl_seconds < 0:
            raise InvalidInput("ttl_seconds must be >= 0", details={"field": "ttl_seconds"})
        key_id = uuid.uuid4().hex[:12]
        secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = KeyRecord(
            id=f"key-{key_id}",
            user_id=user_id,
            name=name[:100] or "default",
            prefix=secret[:16],
            digest=digest(secret),
            role=role,
            plan=plan,
            created_at=now_rfc3339(),
            expires_at=time.time() + ttl_seconds if ttl_seconds else None,
            revoked_at=None,
        )
        self._db.execute(
            "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (
                record.id,
                record.user_id,
                record.name,
                record.prefix,
                record.digest,
                record.role,
                record.plan,
                record.created_at,
                record.expires_at,
            ),
        )
        return record, secret

    def list(self, user_id: str) -> list[KeyRecord]:
        """A user's keys, newest first."""
        rows = self._db.all("SELECT * FROM api_keys WHERE user_id = ? ORDER BY created_at DESC", (user_id,))
        return [KeyRecord(*r) for r in rows]

    def revoke(self, key_id: str, user_id: str | None) -> None:
        """Revokes a key; ``user_id`` None means any owner (admins)."""
        row = self._db.one("SELECT user_id, revoked_at FROM api_keys WHERE id = ?", (key_id,))
        if row is None or (user_id is not None and row[0] != user_id):
            raise NotFound(f"API key {key_id!r} not found", details={"key_id": key_id})
        if row[1] is None:
            self._db.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (time.time(), key_id))
            self._sessions.log_revocation("api_key", key_id, 0)

    def lookup(self, secret: str) -> KeyRecord:
        """The live key behind a secret, or :class:`AuthenticationFailed`."""
        parts = secret.split("_")
        if not looks_like_key(secret) or len(parts) < 3:
            raise _refused("malformed API key")
        row = self._db.one("SELECT * FROM api_keys WHERE id = ?", (f"key-{parts[1]}",))
        if row is None:
            raise _refused("unknown API key")
        record = KeyRecord(*row)
        if not hmac.compare_digest(record.digest, digest(secret)):
            raise _refused("unknown API key")
        if record.revoked_at is not None:
            raise _refused("API key revoked")
        if record.expires_at is not None and record.expires_at < time.time():
            raise _refused("API key expired")
        return record


def _refused(message: str) -> AuthenticationFailed:
    return AuthenticationFailed(
        message, details={"credential": "api_key"}, suggestion="create a new key with /auth/generate-key"
    )
