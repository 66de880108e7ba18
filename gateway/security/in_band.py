"""Credentials that arrive inside a protocol rather than in a header (``permissions.IN_BAND``).

Document 004 §7.1's Socket.IO client sends ``auth: {token}`` in its connect packet, after the
transport's HTTP/WebSocket handshake has passed the middleware. The endpoint calls
:func:`authenticate_in_band` there; it applies the same rules as the middleware: the permission
table's access level, roles, and optional auth when ``enable_auth`` is off.
"""

from __future__ import annotations

from typing import Any

from gateway.security.permissions import Access, required_access
from gateway.security.state import SecurityState
from services.auth.principal import Principal
from services.common.errors import AuthenticationFailed, MeshError, PermissionDenied


def token_of(auth: Any) -> str:
    """The credential in a Socket.IO ``auth`` payload: ``{"token": ...}`` (004 §7.1), a bare string,
    or ``{"api_key": ...}``; a ``Bearer`` prefix is allowed."""
    if isinstance(auth, dict):
        auth = auth.get("token") or auth.get("api_key") or ""
    if not isinstance(auth, str):
        return ""
    scheme, _, rest = auth.strip().partition(" ")
    return rest.strip() if rest and scheme.lower() in ("bearer", "token") else auth.strip()


async def authenticate_in_band(scope: dict[str, Any], credential: str) -> Principal | None:
    """The caller of a request on an in-band path: the principal the middleware resolved from the
    headers, else the in-band credential's. None when auth is off and nothing valid was given;
    raises :class:`AuthenticationFailed` / :class:`PermissionDenied` when auth is on and it fails."""
    state: SecurityState | None = getattr(scope["app"].state, "security", None)
    resolved: Principal | None = scope.get("state", {}).get("principal")
    if state is None or resolved is not None:
        return resolved
    enabled = state.settings.enable_auth
    access = required_access(scope.get("method", "GET"), scope["path"])
    if not credential:
        if enabled and access is not Access.PUBLIC:
            raise AuthenticationFailed(
                "authentication required",
                details={"path": scope["path"]},
                suggestion="connect with auth: {token: '<API key or access token>'}, or send"
                " Authorization: Bearer <token> / X-API-Key",
            )
        return None
    try:
        principal = await state.authenticator.resolve(credential)
    except MeshError:
        if enabled:
            raise
        return None  # optional auth (document 001): a bad credential falls back to anonymous
    if (
        enabled
        and access not in (Access.PUBLIC, Access.AUTHENTICATED)
        and not principal.has_role(access.value)
    ):
        raise PermissionDenied(
            f"role {principal.role!r} may not open {scope['path']}; it needs {access.value!r}",
            details={"role": principal.role, "required_role": access.value},
            suggestion="use a key or account with the required role",
        )
    return principal
