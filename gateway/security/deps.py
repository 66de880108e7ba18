"""Dependencies for routes that act on the caller's own account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.security.credentials import extract_credential
from gateway.security.state import SecurityState
from services.auth.principal import Principal
from services.common.errors import AuthenticationFailed


def optional_principal(request: Request) -> Principal | None:
    """The caller, if it sent a valid credential."""
    return request.scope.get("state", {}).get("principal")


def require_principal(request: Request) -> Principal:
    """The caller, or 401 (even with auth off: these routes are about an account)."""
    principal = optional_principal(request)
    if principal is None:
        raise AuthenticationFailed(
            "this endpoint needs a valid token or API key",
            suggestion="log in (POST /auth/login) and send Authorization: Bearer <token>",
        )
    return principal


def raw_credential(request: Request) -> str:
    """The credential exactly as sent."""
    return extract_credential(request.scope.get("headers") or [])


def security_state(request: Request) -> SecurityState:
    """The gateway's security state."""
    return request.app.state.security


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
Credential = Annotated[str, Depends(raw_credential)]
Security = Annotated[SecurityState, Depends(security_state)]
