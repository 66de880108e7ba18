"""Two auth replicas (two AuthCore instances) over one real PostgreSQL: a user registered through
one logs in through the other, a key minted by one authenticates at the other, and a revocation by
one is in the other's revocation log; a duplicate registration is refused whichever replica sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.auth.core import AuthCore
from services.auth.settings import AuthSettings
from services.common.errors import AlreadyExists, AuthenticationFailed
from tests.servers import fresh_database

SECRET = "s" * 48


def replica(url: str, tmp_path: Path) -> AuthCore:
    return AuthCore(AuthSettings(database_url=url, data_dir=tmp_path, jwt_secret=SECRET, enable_auth=True))


def test_two_replicas_share_users_keys_and_revocations(postgres_url: str, tmp_path: Path) -> None:
    url = fresh_database(postgres_url)
    a, b = replica(url, tmp_path / "a"), replica(url, tmp_path / "b")
    user = a.users.register("shared-user", "shared@example.com", "correct horse battery")
    with pytest.raises(AlreadyExists):
        b.users.register("shared-user", "other@example.com", "correct horse battery")
    tokens, who = b.login("shared-user", "correct horse battery", "127.0.0.1")
    assert who.id == user.id and tokens.access_token
    record, secret = a.create_key(user.id, "ci", "", "", 3600)
    assert b.authenticate(secret).user_id == user.id
    _, before = b.revocations(0)
    a.revoke_key(user.id, record.id)
    revoked, after = b.revocations(before)
    assert after > before and any(r.ident == record.id for r in revoked)
    with pytest.raises(AuthenticationFailed):
        b.authenticate(secret)
