"""The security middleware: authenticate, authorize by the permission table, rate limit, audit.

Pure ASGI, so streams pass through untouched. Refusals are rendered by the gateway's one error
renderer in the envelope of the surface that owns the path. It must sit inside the request-id
middleware (added before it) so refusals and audit events carry the request id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import error_response, surface_name
from gateway.reply_headers import collect_reply_headers
from gateway.request_id import request_id_of
from gateway.security.audit import masked_target
from gateway.security.credentials import extract_credential
from gateway.security.permissions import Access, credential_in_band, is_counted, is_quiet, required_access
from gateway.security.ratelimit import Decision
from gateway.security.state import SecurityState
from meshserve.v1 import auth_pb2 as pb
from services.auth.audit import audit_time
from services.auth.principal import Principal
from services.common.context import Tenant, caller_var, tenant_var
from services.common.errors import AuthenticationFailed, MeshError, PermissionDenied, RateLimitExceeded

log = logging.getLogger("meshserve.gateway.security")


class SecurityMiddleware:
    """Applies the security layer to every HTTP and WebSocket request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticates, authorizes, counts and audits one request."""
        if scope["type"] == "lifespan":
            await self.app(scope, self._on_shutdown(scope, receive), send)
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        state: SecurityState = scope["app"].state.security
        await state.ensure_started(scope["app"])
        started = time.perf_counter()
        method = scope.get("method", "WS")
        path = scope["path"]
        principal, error = await self._admit(state, scope, method, path)
        decision: Decision | None = None
        if error is None:
            decision, error = await self._count(state, scope, principal, path)
        scope.setdefault("state", {})["principal"] = principal
        caller_var.set(principal.user_id if principal else "")
        tenant_var.set(
            Tenant(
                api_key_id=principal.api_key_id if principal else "",
                plan=principal.plan if principal else "anonymous",
                surface=surface_name(path),
            )
        )
        outcome = {"status": 0}
        extra = decision.headers() if decision else []
        learned = collect_reply_headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
                if extra or learned:
                    ours = [(k.lower().encode(), v.encode()) for k, v in [*extra, *learned]]
                    names = {k for k, _ in ours}
                    kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                    message["headers"] = [*kept, *ours]
            elif message["type"] == "websocket.accept":
                outcome["status"] = 101
            await send(message)

        try:
            if error is not None:
                await self._refuse(scope, receive, send_with_headers, error)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            if state.settings.audit_enabled and not is_quiet(path):
                state.audit.record(self._event(scope, principal, outcome["status"] or 500, started, error))

    async def _admit(
        self, state: SecurityState, scope: Scope, method: str, path: str
    ) -> tuple[Principal | None, MeshError | None]:
        credential = extract_credential(scope.get("headers") or [])
        principal: Principal | None = None
        failure: MeshError | None = None
        if credential:
            try:
                principal = await state.authenticator.resolve(credential)
            except AuthenticationFailed as error:
                failure = error
            except MeshError as error:
                if state.settings.enable_auth:  # auth unreachable: a real 503, not a silent anonymous
                    return None, error
                failure = error
        if not state.settings.enable_auth:
            # Optional auth (document 001): bad or foreign credentials fall back to anonymous.
            return principal, None
        access = required_access(method, path)
        if access is Access.PUBLIC:
            return principal, None
        if principal is None and not credential and credential_in_band(path):
            return None, None  # the endpoint authenticates the in-band credential (Socket.IO auth)
        if principal is None:
            return None, failure or AuthenticationFailed(
                "authentication required",
                details={"path": path},
                suggestion="send Authorization: Bearer <token or API key>, or X-API-Key",
            )
        if access is not Access.AUTHENTICATED and not principal.has_role(access.value):
            return principal, PermissionDenied(
                f"role {principal.role!r} may not call {method} {path}; it needs {access.value!r}",
                details={"role": principal.role, "required_role": access.value},
                suggestion="use a key or account with the required role",
            )
        return principal, None

    async def _count(
        self, state: SecurityState, scope: Scope, principal: Principal | None, path: str
    ) -> tuple[Decision | None, MeshError | None]:
        if not is_counted(path) or not state.settings.rate_limits:
            return None, None
        if principal is not None:
            subject = f"key:{principal.api_key_id}" if principal.api_key_id else f"user:{principal.user_id}"
            decision = await state.limiter.check(subject, principal.plan, True, path)
        elif state.settings.rate_limit_anonymous:
            address = (scope.get("client") or ("unknown", 0))[0]
            decision = await state.limiter.check(f"addr:{address}", "anonymous", False, path)
        else:
            return None, None
        if decision is not None and decision.exceeded:
            return decision, RateLimitExceeded(
                f"rate limit of {decision.limit} requests per window exceeded",
                details={"limit": decision.limit, "reset": decision.reset},
                retry_after=decision.retry_after,
                suggestion=f"retry after {decision.retry_after} seconds, or move to a larger plan",
            )
        return decision, None

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, error: MeshError) -> None:
        if scope["type"] == "websocket":
            # Closing before accept makes the server answer the handshake with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": error.message[:120]})
            return
        response = error_response(HTTPConnection(scope), error)  # type: ignore[arg-type]
        await response(scope, receive, send)

    def _on_shutdown(self, scope: Scope, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                state: SecurityState | None = getattr(scope["app"].state, "security", None)
                if state is not None:
                    await state.stop()
            return message

        return wrapped

    def _event(
        self,
        scope: Scope,
        principal: Principal | None,
        status: int,
        started: float,
        error: MeshError | None,
    ) -> pb.AuditEvent:
        query = scope.get("query_string", b"").decode("latin-1")
        outcome = "success" if status < 400 else ("denied" if status in (401, 403, 429) else "error")
        detail: list[str] = []
        if principal and principal.api_key_id:
            detail.append(f"api_key={principal.api_key_id}")
        if error is not None:
            detail.append(f"reason={error.code}")
        return pb.AuditEvent(
            time=audit_time(),
            user_id=principal.user_id if principal else "anonymous",
            method=scope.get("method", "WS"),
            path=masked_target(scope["path"], query),
            client_address=(scope.get("client") or ("", 0))[0],
            status=status,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            request_id=request_id_of(HTTPConnection(scope)),
            action="request",
            outcome=outcome,
            detail=" ".join(detail),
            credential_type=principal.credential_type if principal else "anonymous",
        )


def principal_of(scope: dict[str, Any]) -> Principal | None:
    """The principal the middleware resolved for a request."""
    return scope.get("state", {}).get("principal")
