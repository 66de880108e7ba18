"""Document 004 §2.2 ``POST /api/v1/auth/login``: ``{"success", "token", "expires_in", "user"}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from gateway.deps import Clients
from gateway.security import account
from gateway.security.state import ROLE_NAMES

router = APIRouter(tags=["llama-gpu", "auth"])

#: 004's sample names the admin role "administrator"; the other roles keep their §2.3 names.
DISPLAY_ROLE = {"admin": "administrator"}


class LoginBody(BaseModel):
    """Dashboard credentials."""

    username: str = Field(..., description="Username or email.")
    password: str = Field(..., description="Password.")


@router.post("/api/v1/auth/login", operation_id="llama_login", summary="Session login (document 004)")
async def llama_login(body: LoginBody, request: Request, clients: Clients) -> dict[str, Any]:
    """A JWT for the dashboard, with the user's role and permissions."""
    address = request.client.host if request.client else ""
    reply = await account.login(clients, body.username, body.password, address)
    user = account.user_dict(reply.user)
    role = ROLE_NAMES.get(reply.user.role, "read")
    return {
        "success": True,
        "token": reply.tokens.access_token,
        "refresh_token": reply.tokens.refresh_token,
        "expires_in": reply.tokens.expires_in,
        "user": {
            "id": user["id"],
            "username": user["username"],
            "role": DISPLAY_ROLE.get(role, role),
            "permissions": user["permissions"],
        },
    }
