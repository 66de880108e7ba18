"""Document 001 ``/auth/*``: register, login, logout, profile, generate-key (plus key list/revoke)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel, Field, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.security import account
from gateway.security.deps import Credential, CurrentPrincipal, Security

router = dialect_router("pytorch_if", "pytorch-if", "auth")


class RegisterBody(BaseModel):
    """A new account."""

    username: str = Field(..., description="3-64 letters, digits, '.', '_' or '-'.")
    email: str = Field(..., description="Email address.")
    password: str = Field(..., description="At least 8 characters.")


class LoginBody(BaseModel):
    """Credentials: a username or an email, and the password."""

    username: str = Field("", description="Username or email.")
    email: str = Field("", description="Email, instead of username.")
    password: str = Field(..., description="Password.")


class KeyBody(BaseModel):
    """A new API key."""

    name: str = Field("default", description="Label.")
    role: str = Field("", description="read, write or admin; at most yours (default: yours).")
    plan: str = Field("", description="free, pro or enterprise; at most yours (default: yours).")
    expires_in_days: StrictInt = Field(0, ge=0, description="Lifetime in days; 0 for none.")
    ttl_seconds: StrictInt = Field(0, ge=0, description="Lifetime in seconds; wins over expires_in_days.")


def client_address(request: Request) -> str:
    """The caller's address, for login throttling."""
    return request.client.host if request.client else ""


@router.post("/auth/register", summary="User registration", status_code=201)
async def register(body: RegisterBody, clients: Clients) -> dict[str, Any]:
    """Creates an account with the write role on the free plan."""
    user = await account.register(clients, body.username, body.email, body.password)
    return {"success": True, "message": "user registered", "user": account.user_dict(user)}


@router.post("/auth/login", summary="User login")
async def login(body: LoginBody, request: Request, clients: Clients) -> dict[str, Any]:
    """Access and refresh tokens for a username or email and password."""
    reply = await account.login(clients, body.username or body.email, body.password, client_address(request))
    return {"success": True, **account.tokens_dict(reply.tokens), "user": account.user_dict(reply.user)}


@router.post("/auth/logout", summary="User logout")
async def logout(
    principal: CurrentPrincipal, credential: Credential, clients: Clients, security: Security
) -> Any:
    """Revokes the session of the bearer token (its refresh token dies with it)."""
    await account.logout(clients, security, credential, principal)
    return {"success": True, "message": "logged out"}


@router.get("/auth/profile", summary="User profile")
async def profile(principal: CurrentPrincipal, clients: Clients) -> dict[str, Any]:
    """The caller's account and how it authenticated."""
    user = await account.profile(clients, principal)
    return {"success": True, "user": account.user_dict(user), "credential": account.token_info(principal)}


@router.post("/auth/generate-key", summary="Generate an API key")
async def generate_key(body: KeyBody, principal: CurrentPrincipal, clients: Clients) -> dict[str, Any]:
    """A new API key; the secret is in this response only."""
    ttl = body.ttl_seconds or body.expires_in_days * 86400
    reply = await account.create_key(clients, principal, body.name, body.role, body.plan, ttl)
    return {
        "success": True,
        "api_key": reply.secret,
        "key": account.key_dict(reply.key),
        "message": "store this key now: it is shown only once",
    }


@router.get("/auth/keys", summary="List your API keys")
async def list_keys(principal: CurrentPrincipal, clients: Clients) -> dict[str, Any]:
    """The caller's keys (never their secrets)."""
    keys = await account.list_keys(clients, principal)
    return {"success": True, "keys": [account.key_dict(k) for k in keys]}


@router.delete("/auth/keys/{key_id}", summary="Revoke an API key")
async def revoke_key(key_id: str, principal: CurrentPrincipal, clients: Clients, security: Security) -> Any:
    """Revokes one of the caller's keys (admins: anyone's)."""
    await account.revoke_key(clients, security, principal, key_id)
    return {"success": True, "message": f"key {key_id} revoked"}
