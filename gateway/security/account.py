"""Account calls shared by every surface's auth routes: canonical gRPC in, plain dicts out."""

from __future__ import annotations

import time
from typing import Any

from gateway.clients import MeshClients
from gateway.security.state import PLAN_NAMES, ROLE_NAMES, SecurityState
from meshserve.v1 import auth_pb2 as pb
from services.auth.jwt_codec import looks_like_jwt
from services.auth.principal import Principal, permissions_of
from services.common.errors import InvalidInput

ROLE_VALUES = {v: k for k, v in ROLE_NAMES.items()}
PLAN_VALUES = {v: k for k, v in PLAN_NAMES.items()}


def user_dict(user: pb.User) -> dict[str, Any]:
    """A user's public facts."""
    role = ROLE_NAMES.get(user.role, "read")
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": role,
        "plan": PLAN_NAMES.get(user.plan, "free"),
        "permissions": permissions_of(role),
        "created_at": user.created_at,
    }


def key_dict(key: pb.ApiKey) -> dict[str, Any]:
    """An API key's public facts (never the secret)."""
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "role": ROLE_NAMES.get(key.role, "read"),
        "plan": PLAN_NAMES.get(key.plan, "free"),
        "created_at": key.created_at,
        "expires_at": key.expires_at or None,
        "revoked": key.revoked,
    }


def tokens_dict(tokens: pb.TokenPair) -> dict[str, Any]:
    """Tokens as returned to a client."""
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": tokens.token_type or "bearer",
        "expires_in": tokens.expires_in,
    }


async def register(clients: MeshClients, username: str, email: str, password: str) -> pb.User:
    """Creates a user."""
    reply = await clients.call(
        clients.auth.Register, pb.RegisterRequest(username=username, email=email, password=password)
    )
    return reply.user


async def login(clients: MeshClients, login_name: str, password: str, address: str) -> pb.LoginResponse:
    """Tokens for a username or email and password."""
    return await clients.call(
        clients.auth.Login, pb.LoginRequest(username=login_name, password=password, client_address=address)
    )


async def logout(
    clients: MeshClients, security: SecurityState, credential: str, principal: Principal
) -> None:
    """Ends the caller's session here and everywhere (other gateways learn it by polling)."""
    if principal.credential_type != "jwt" or not looks_like_jwt(credential):
        raise InvalidInput(
            "logout ends a token session; API keys are revoked instead",
            details={"credential": principal.credential_type},
            suggestion="DELETE /auth/keys/{key_id} revokes an API key",
        )
    await clients.call(clients.auth.Logout, pb.LogoutRequest(access_token=credential))
    security.revoked.revoke_session(principal.session_id, float(principal.expires_at))


async def refresh(clients: MeshClients, refresh_token: str) -> pb.TokenPair:
    """Rotates a refresh token."""
    if not refresh_token:
        raise InvalidInput("refresh_token is required", details={"field": "refresh_token"})
    reply = await clients.call(clients.auth.RefreshToken, pb.RefreshTokenRequest(refresh_token=refresh_token))
    return reply.tokens


async def profile(clients: MeshClients, principal: Principal) -> pb.User:
    """The caller's user."""
    reply = await clients.call(
        clients.auth.GetProfile, pb.GetProfileRequest(user_id=principal.user_id), idempotent=True
    )
    return reply.user


async def create_key(
    clients: MeshClients, principal: Principal, name: str, role: str, plan: str, ttl_seconds: int
) -> pb.CreateApiKeyResponse:
    """A new API key for the caller."""
    if role and role not in ROLE_VALUES:
        raise InvalidInput(f"unknown role {role!r}", details={"field": "role", "allowed": "read,write,admin"})
    if plan and plan not in PLAN_VALUES:
        raise InvalidInput(
            f"unknown plan {plan!r}", details={"field": "plan", "allowed": "free,pro,enterprise"}
        )
    return await clients.call(
        clients.auth.CreateApiKey,
        pb.CreateApiKeyRequest(
            user_id=principal.user_id,
            name=name,
            role=ROLE_VALUES.get(role, pb.ROLE_UNSPECIFIED),
            plan=PLAN_VALUES.get(plan, pb.PLAN_UNSPECIFIED),
            ttl_seconds=ttl_seconds,
        ),
    )


async def list_keys(clients: MeshClients, principal: Principal) -> list[pb.ApiKey]:
    """The caller's keys."""
    reply = await clients.call(
        clients.auth.ListApiKeys, pb.ListApiKeysRequest(user_id=principal.user_id), idempotent=True
    )
    return list(reply.keys)


async def revoke_key(
    clients: MeshClients, security: SecurityState, principal: Principal, key_id: str
) -> None:
    """Revokes a key; this gateway stops accepting it at once."""
    await clients.call(
        clients.auth.RevokeApiKey, pb.RevokeApiKeyRequest(user_id=principal.user_id, key_id=key_id)
    )
    security.authenticator.drop_key(key_id)


def token_info(principal: Principal) -> dict[str, Any]:
    """What the caller's credential is and how long it lasts (document 000 ``token_info``)."""
    now = int(time.time())
    return {
        "active": True,
        "credential_type": principal.credential_type,
        "user_id": principal.user_id,
        "username": principal.username,
        "role": principal.role,
        "plan": principal.plan,
        "permissions": permissions_of(principal.role),
        "api_key_id": principal.api_key_id or None,
        "issued_at": principal.issued_at or None,
        "expires_at": principal.expires_at or None,
        "expires_in": max(0, principal.expires_at - now) if principal.expires_at else None,
    }
