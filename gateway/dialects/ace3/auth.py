"""Document 000 ``token_info()`` and ``refresh_token()``: ``GET /v1/auth/token``, ``POST /v1/auth/refresh``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.security import account
from gateway.security.deps import CurrentPrincipal

router = dialect_router("ace3", "ace3", "auth")


class RefreshBody(BaseModel):
    """A refresh token to rotate."""

    refresh_token: str = Field(..., description="The refresh token from login or the last refresh.")


@router.get("/v1/auth/token", summary="Token status (000 token_info)")
async def token_info(principal: CurrentPrincipal) -> dict[str, Any]:
    """Who the credential belongs to, its role, plan and expiry."""
    return account.token_info(principal)


@router.post("/v1/auth/refresh", summary="Refresh tokens (000 refresh_token)")
async def refresh_token(body: RefreshBody, clients: Clients) -> dict[str, Any]:
    """New access and refresh tokens; the old refresh token stops working, and reusing it revokes the session."""
    tokens = await account.refresh(clients, body.refresh_token)
    return account.tokens_dict(tokens)
