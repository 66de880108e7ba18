"""The security layer's process state: codec, caches, counters and its two background tasks."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway.security.audit import AuditRecorder
from gateway.security.authenticator import Authenticator, RevokedSet
from gateway.security.ratelimit import MemoryCounter, RateLimiter, RedisCounter
from gateway.security.settings import SecuritySettings
from meshserve.v1 import auth_pb2 as pb
from meshserve.v1 import metering_pb2 as mpb
from services.auth.jwt_codec import JwtCodec, check_secret
from services.auth.principal import Principal
from services.common import internal_auth
from services.common.errors import MeshError
from services.common.messages import record_from
from services.common.plans import DEFAULT_PLANS

log = logging.getLogger("meshserve.gateway.security")

ROLE_NAMES = {pb.ROLE_READ: "read", pb.ROLE_WRITE: "write", pb.ROLE_ADMIN: "admin"}
PLAN_NAMES = {pb.PLAN_FREE: "free", pb.PLAN_PRO: "pro", pb.PLAN_ENTERPRISE: "enterprise"}


def principal_from_proto(message: pb.Principal) -> Principal:
    """A principal message as the shared dataclass."""
    return record_from(
        Principal,
        message,
        role=ROLE_NAMES.get(message.role, "read"),
        plan=PLAN_NAMES.get(message.plan, "free"),
    )


def plan_limits(settings: SecuritySettings, table: dict[str, int] | None = None) -> dict[str, int | None]:
    """Requests per window of each plan: the plan table (the auth service's, once read; the shipped
    one before), with the free and pro limits that are set explicitly on top (None: unlimited, as
    0 is in the table)."""
    rates = table if table is not None else {n: p.requests_per_hour for n, p in DEFAULT_PLANS.items()}
    limits: dict[str, int | None] = {name: rate or None for name, rate in rates.items()}
    for name in ("free", "pro"):
        if f"{name}_limit" in settings.model_fields_set:
            limits[name] = getattr(settings, f"{name}_limit")
    return limits


class SecurityState:
    """Everything the middleware needs; fails fast on unsafe settings."""

    def __init__(self, settings: SecuritySettings) -> None:
        check_secret(settings.jwt_secret, settings.enable_auth)
        mesh = internal_auth.InternalAuthSettings(
            enable_auth=settings.enable_auth, internal_token=settings.internal_token
        )
        mesh.validate_for_start()
        internal_auth.configure(mesh)
        self.settings = settings
        self.codec = JwtCodec(settings.jwt_secret, settings.jwt_issuer, settings.jwt_audience)
        self.revoked = RevokedSet()
        self.authenticator = Authenticator(
            self.codec, self._resolve_key, settings.key_cache_seconds, self.revoked
        )
        counter = RedisCounter(settings.redis_url) if settings.redis_url else MemoryCounter()
        self.limiter = RateLimiter(
            counter,
            settings.rate_limit_window_seconds,
            plan_limits(settings),
            scale=settings.rate_limit_scale,
        )
        self.audit = AuditRecorder(
            self._send_audit,
            settings.audit_flush_seconds,
            settings.audit_batch_size,
            settings.audit_queue_size,
        )
        self.clients: Any = None
        self._last_sequence = 0
        self._poller: asyncio.Task[None] | None = None
        self._plans: asyncio.Task[None] | None = None
        self._started: asyncio.Event | None = None

    async def ensure_started(self, app: Any) -> None:
        """Binds the gRPC clients and starts the tasks on the first request."""
        if self._started is not None:
            if not self._started.is_set():
                await self._started.wait()
            return
        self._started = asyncio.Event()
        try:
            self.clients = app.state.clients
            if self.settings.audit_enabled:
                self.audit.start()
            if self.settings.rate_limits:
                self._plans = asyncio.get_running_loop().create_task(self._follow_plans(), name="plans")
            if self.settings.enable_auth:
                # Learn what is already revoked before serving the first token.
                await self.sync_revocations()
                self._poller = asyncio.get_running_loop().create_task(self._poll(), name="revocations")
        finally:
            self._started.set()

    async def stop(self) -> None:
        """Stops the tasks, flushing the audit queue."""
        for task in (self._poller, self._plans):
            if task is not None:
                task.cancel()
        self._poller = self._plans = None
        if self.clients is not None:
            await self.audit.stop()
        closer = getattr(self.limiter.counter, "close", None)
        if closer is not None:
            await closer()

    async def sync_revocations(self) -> None:
        """Applies revocations logged since the last poll."""
        try:
            reply = await self.clients.call(
                self.clients.auth.ListRevocations,
                pb.ListRevocationsRequest(after_sequence=self._last_sequence),
                timeout=2.0,
                idempotent=True,
            )
        except MeshError as error:
            log.debug("revocation poll failed: %s", error)
            return
        for entry in reply.revocations:
            if entry.kind == "session":
                self.revoked.revoke_session(entry.id, float(entry.expires_at))
            elif entry.kind == "api_key":
                self.authenticator.drop_key(entry.id)
        self._last_sequence = max(self._last_sequence, reply.last_sequence)

    async def _follow_plans(self) -> None:
        """Keeps each plan's request rate as admins set it in the auth service's plan table."""
        while True:
            try:
                reply = await self.clients.call(
                    self.clients.metering.ListPlans, mpb.ListPlansRequest(), timeout=2.0, idempotent=True
                )
                table = {plan.name: plan.requests_per_hour for plan in reply.plans}
                self.limiter.plan_limits = plan_limits(self.settings, table)
            except MeshError as error:
                log.debug("plan table not read: %s", error)
            await asyncio.sleep(self.settings.plan_refresh_seconds)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.settings.revocation_poll_seconds)
            await self.sync_revocations()

    async def _resolve_key(self, credential: str) -> Principal:
        reply = await self.clients.call(
            self.clients.auth.Authenticate, pb.AuthenticateRequest(credential=credential), idempotent=True
        )
        return principal_from_proto(reply.principal)

    async def _send_audit(self, events: list[pb.AuditEvent]) -> None:
        await self.clients.call(
            self.clients.auth.RecordAudit, pb.RecordAuditRequest(events=events), timeout=5.0
        )
