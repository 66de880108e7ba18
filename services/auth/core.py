"""The auth service's logic: users, sessions, keys, throttling and audit. No transport imports."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from services.auth.audit import AuditRecord, AuditStore, audit_time
from services.auth.jwt_codec import JwtCodec, check_secret, looks_like_jwt
from services.auth.keys import KeyRecord, KeyStore, looks_like_key
from services.auth.principal import PLAN_RANK, Principal
from services.auth.sessions import Revocation, SessionStore
from services.auth.settings import AuthSettings
from services.auth.throttle import LoginThrottle, RedisFailures
from services.auth.users import UserRecord, UserStore
from services.common.errors import AuthenticationFailed, PermissionDenied
from services.common.pg_sqldb import open_database

log = logging.getLogger("meshserve.auth")


@dataclass(frozen=True)
class Tokens:
    """An access token, a refresh token and the access token's lifetime."""

    access_token: str
    refresh_token: str
    expires_in: int


class AuthCore:
    """Everything the auth service does, callable without gRPC."""

    def __init__(self, settings: AuthSettings) -> None:
        check_secret(settings.jwt_secret, settings.enable_auth)
        self.settings = settings
        self.db = open_database(settings.database_url, settings.db_file)
        self.users = UserStore(self.db)
        self.sessions = SessionStore(self.db, settings.refresh_ttl_seconds, settings.access_ttl_seconds)
        self.keys = KeyStore(self.db, self.sessions)
        self.audit = AuditStore(self.db)
        self.codec = JwtCodec(
            settings.jwt_secret, settings.jwt_issuer, settings.jwt_audience, settings.access_ttl_seconds
        )
        self.throttle = LoginThrottle(
            settings.login_max_failures,
            settings.login_window_seconds,
            settings.login_lock_seconds,
            settings.login_address_max_failures,
            failures=RedisFailures(settings.redis_url) if settings.redis_url else None,
        )
        admin = self.users.ensure_admin(
            settings.admin_username, settings.admin_email, settings.admin_password
        )
        if admin is not None:
            log.info("bootstrap admin created", extra={"user_id": admin.id, "username": admin.username})

    # Users and sessions -------------------------------------------------------------------------
    def login(self, login: str, password: str, address: str) -> tuple[Tokens, UserRecord]:
        """Tokens for good credentials; failures are throttled and audited."""
        self.throttle.check(login, address)
        try:
            user = self.users.verify(login, password)
        except AuthenticationFailed:
            locked = self.throttle.failure(login, address)
            known = self.users.find(login)
            who = known.id if known else "anonymous"
            self._note(who, "login_failed", "denied", address, 401, f"login={login[:64]}")
            for what in locked:
                self._note(who, f"{what}_locked", "locked", address, 429, f"login={login[:64]}")
            raise
        self.throttle.success(login)
        session_id, refresh = self.sessions.open(user.id)
        self._note(user.id, "login", "success", address, 200, f"session={session_id}")
        return self._tokens(user, session_id, refresh), user

    def refresh(self, refresh_token: str) -> Tokens:
        """Rotates a refresh token (reuse revokes the family, and is audited)."""
        try:
            user_id, session_id, refresh = self.sessions.rotate(refresh_token)
        except AuthenticationFailed as error:
            if error.details.get("reason") == "refresh_token_reuse":
                self._note("", "refresh_reuse", "revoked", "", 401, f"session={error.details['session_id']}")
            raise
        return self._tokens(self.users.get(user_id), session_id, refresh)

    def logout(self, access_token: str) -> None:
        """Revokes the session of an access token."""
        claims = self.codec.verify(access_token)
        self.sessions.revoke(claims.session_id)
        self._note(claims.user_id, "logout", "success", "", 200, f"session={claims.session_id}")

    def _tokens(self, user: UserRecord, session_id: str, refresh: str) -> Tokens:
        access, _ = self.codec.issue(user.id, user.username, user.role, user.plan, session_id)
        return Tokens(access, refresh, self.codec.ttl_seconds)

    # Credentials -------------------------------------------------------------------------------
    def authenticate(self, credential: str) -> Principal:
        """The principal behind a JWT or an API key."""
        if looks_like_jwt(credential):
            claims = self.codec.verify(credential)
            if self.sessions.is_revoked(claims.session_id):
                raise AuthenticationFailed("session revoked", details={"credential": "jwt"})
            return claims.principal()
        if looks_like_key(credential):
            key = self.keys.lookup(credential)
            user = self.users.get(key.user_id)
            return Principal(
                user.id,
                user.username,
                key.role,
                key.plan,
                "api_key",
                api_key_id=key.id,
                expires_at=int(key.expires_at or 0),
            )
        raise AuthenticationFailed(
            "unrecognised credential", suggestion="send a JWT or an API key (msk_…) as a Bearer token"
        )

    def authorize(self, credential: str, required_role: str) -> Principal:
        """The principal when its role reaches ``required_role`` (empty: any)."""
        principal = self.authenticate(credential)
        if required_role and not principal.has_role(required_role):
            raise PermissionDenied(
                f"role {principal.role!r} may not do this; it needs {required_role!r}",
                details={"role": principal.role, "required_role": required_role},
            )
        return principal

    # API keys -----------------------------------------------------------------------------------
    def create_key(
        self, user_id: str, name: str, role: str, plan: str, ttl_seconds: int
    ) -> tuple[KeyRecord, str]:
        """A key for a user, capped at the user's role and plan."""
        user = self.users.get(user_id)
        role = role or user.role
        plan = plan or user.plan
        owner = Principal(user.id, user.username, user.role, user.plan, "jwt")
        if not owner.has_role(role):
            raise PermissionDenied(
                f"a {user.role!r} user cannot create a {role!r} key", details={"role": role}
            )
        if PLAN_RANK[plan] > PLAN_RANK[user.plan] and user.role != "admin":
            raise PermissionDenied(
                f"a {user.plan!r} user cannot create a {plan!r} key", details={"plan": plan}
            )
        record, secret = self.keys.create(user.id, name, role, plan, ttl_seconds)
        self._note(user.id, "api_key_created", "success", "", 200, f"key={record.id}")
        return record, secret

    def revoke_key(self, user_id: str, key_id: str) -> None:
        """Revokes a key of a user (admins: of anyone)."""
        user = self.users.get(user_id)
        self.keys.revoke(key_id, None if user.role == "admin" else user.id)
        self._note(user.id, "api_key_revoked", "success", "", 200, f"key={key_id}")

    def revocations(self, after: int) -> tuple[list[Revocation], int]:
        """The revocation log after a sequence number."""
        return self.sessions.revocations_after(after)

    # Audit ------------------------------------------------------------------------------------------
    def _note(self, user_id: str, action: str, outcome: str, address: str, status: int, detail: str) -> None:
        try:
            self.audit.append(
                [
                    AuditRecord(
                        time=audit_time(),
                        user_id=user_id or "anonymous",
                        method="AUTH",
                        path=f"auth/{action}",
                        client_address=address,
                        status=status,
                        action=action,
                        outcome=outcome,
                        detail=detail,
                        credential_type="password" if "login" in action else "",
                    )
                ]
            )
        except self.db.Error:  # auditing must never break the call it records
            log.exception("audit append failed")
