"""gRPC face of the auth service: translation only; the logic lives in :mod:`services.auth.core`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc

from meshserve.v1 import auth_pb2 as pb
from meshserve.v1 import auth_pb2_grpc as pb_grpc
from services.auth.audit import AuditRecord
from services.auth.core import AuthCore, Tokens
from services.auth.keys import KeyRecord
from services.auth.principal import Principal
from services.auth.users import UserRecord
from services.common.messages import message_from, record_from

ROLE_TO_PROTO = {"read": pb.ROLE_READ, "write": pb.ROLE_WRITE, "admin": pb.ROLE_ADMIN}
PLAN_TO_PROTO = {"free": pb.PLAN_FREE, "pro": pb.PLAN_PRO, "enterprise": pb.PLAN_ENTERPRISE}
ROLE_FROM_PROTO = {v: k for k, v in ROLE_TO_PROTO.items()}
PLAN_FROM_PROTO = {v: k for k, v in PLAN_TO_PROTO.items()}


def user_to_proto(user: UserRecord) -> pb.User:
    """A user as its message (never the hash)."""
    return message_from(pb.User, user, role=ROLE_TO_PROTO[user.role], plan=PLAN_TO_PROTO[user.plan])


def principal_to_proto(principal: Principal) -> pb.Principal:
    """A principal as its message."""
    return message_from(
        pb.Principal,
        principal,
        role=ROLE_TO_PROTO.get(principal.role, pb.ROLE_UNSPECIFIED),
        plan=PLAN_TO_PROTO.get(principal.plan, pb.PLAN_UNSPECIFIED),
    )


def key_to_proto(key: KeyRecord) -> pb.ApiKey:
    """A key's public facts."""
    return message_from(
        pb.ApiKey,
        key,
        role=ROLE_TO_PROTO[key.role],
        plan=PLAN_TO_PROTO[key.plan],
        expires_at=key.expires_rfc3339,
        revoked=key.revoked_at is not None,
    )


def tokens_to_proto(tokens: Tokens) -> pb.TokenPair:
    """Tokens as their message."""
    return message_from(pb.TokenPair, tokens, token_type="bearer")


def audit_from_proto(event: pb.AuditEvent) -> AuditRecord:
    """An audit message as a record."""
    return record_from(
        AuditRecord, event, user_id=event.user_id or "anonymous", action=event.action or "request"
    )


def audit_to_proto(record: AuditRecord) -> pb.AuditEvent:
    """An audit record as its message."""
    return message_from(pb.AuditEvent, record)


@dataclass(eq=False)
class AuthServicer(pb_grpc.AuthServiceServicer):
    """Users, tokens, keys and audit. Argon2id and SQLite work runs off the event loop."""

    core: AuthCore

    async def Register(
        self, request: pb.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterResponse:
        """Creates a user."""
        user = await asyncio.to_thread(
            self.core.users.register, request.username, request.email, request.password
        )
        return pb.RegisterResponse(user=user_to_proto(user))

    async def Login(self, request: pb.LoginRequest, context: grpc.aio.ServicerContext) -> pb.LoginResponse:
        """Tokens for a username or email and password."""
        tokens, user = await asyncio.to_thread(
            self.core.login, request.username, request.password, request.client_address
        )
        return pb.LoginResponse(tokens=tokens_to_proto(tokens), user=user_to_proto(user))

    async def Logout(self, request: pb.LogoutRequest, context: grpc.aio.ServicerContext) -> pb.LogoutResponse:
        """Revokes the session of an access token."""
        await asyncio.to_thread(self.core.logout, request.access_token)
        return pb.LogoutResponse()

    async def RefreshToken(
        self, request: pb.RefreshTokenRequest, context: grpc.aio.ServicerContext
    ) -> pb.RefreshTokenResponse:
        """Rotates a refresh token."""
        tokens = await asyncio.to_thread(self.core.refresh, request.refresh_token)
        return pb.RefreshTokenResponse(tokens=tokens_to_proto(tokens))

    async def Authenticate(
        self, request: pb.AuthenticateRequest, context: grpc.aio.ServicerContext
    ) -> pb.AuthenticateResponse:
        """The principal behind a credential."""
        principal = await asyncio.to_thread(self.core.authenticate, request.credential)
        return pb.AuthenticateResponse(principal=principal_to_proto(principal))

    async def Authorize(
        self, request: pb.AuthorizeRequest, context: grpc.aio.ServicerContext
    ) -> pb.AuthorizeResponse:
        """The principal, when its role reaches the required one."""
        role = ROLE_FROM_PROTO.get(request.required_role, "")
        principal = await asyncio.to_thread(self.core.authorize, request.credential, role)
        return pb.AuthorizeResponse(principal=principal_to_proto(principal))

    async def GetProfile(
        self, request: pb.GetProfileRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetProfileResponse:
        """A user's profile."""
        user = await asyncio.to_thread(self.core.users.get, request.user_id)
        return pb.GetProfileResponse(user=user_to_proto(user))

    async def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateApiKeyResponse:
        """A new key; its secret is returned this once."""
        key, secret = await asyncio.to_thread(
            self.core.create_key,
            request.user_id,
            request.name,
            ROLE_FROM_PROTO.get(request.role, ""),
            PLAN_FROM_PROTO.get(request.plan, ""),
            request.ttl_seconds,
        )
        return pb.CreateApiKeyResponse(key=key_to_proto(key), secret=secret)

    async def ListApiKeys(
        self, request: pb.ListApiKeysRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListApiKeysResponse:
        """A user's keys, without secrets."""
        keys = await asyncio.to_thread(self.core.keys.list, request.user_id)
        return pb.ListApiKeysResponse(keys=[key_to_proto(k) for k in keys])

    async def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: grpc.aio.ServicerContext
    ) -> pb.RevokeApiKeyResponse:
        """Revokes a key."""
        await asyncio.to_thread(self.core.revoke_key, request.user_id, request.key_id)
        return pb.RevokeApiKeyResponse()

    async def RecordAudit(
        self, request: pb.RecordAuditRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordAuditResponse:
        """Appends a batch of (already masked) events."""
        await asyncio.to_thread(self.core.audit.append, [audit_from_proto(e) for e in request.events])
        return pb.RecordAuditResponse()

    async def ListAuditEvents(
        self, request: pb.ListAuditEventsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAuditEventsResponse:
        """Events by time range and user, newest first."""
        records = await asyncio.to_thread(
            self.core.audit.query, request.since, request.until, request.user_id, request.limit
        )
        return pb.ListAuditEventsResponse(events=[audit_to_proto(r) for r in records])

    async def ListRevocations(
        self, request: pb.ListRevocationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRevocationsResponse:
        """Revoked sessions and keys after a sequence number."""
        entries, last = await asyncio.to_thread(self.core.revocations, request.after_sequence)
        return pb.ListRevocationsResponse(
            revocations=[
                pb.Revocation(sequence=e.sequence, kind=e.kind, id=e.ident, expires_at=e.expires_at)
                for e in entries
            ],
            last_sequence=last,
        )
