"""gRPC face of the auth service."""

from __future__ import annotations

import asyncio

import grpc

from meshserve.v1 import auth_pb2 as pb
from meshserve.v1 import auth_pb2_grpc as pb_grpc
from services.auth.users import UserRecord, UserStore

ROLE_TO_PROTO = {"read": pb.ROLE_READ, "write": pb.ROLE_WRITE, "admin": pb.ROLE_ADMIN}
PLAN_TO_PROTO = {"free": pb.PLAN_FREE, "pro": pb.PLAN_PRO, "enterprise": pb.PLAN_ENTERPRISE}


def user_to_proto(user: UserRecord) -> pb.User:
    """A user as its message (never the hash)."""
    return pb.User(
        id=user.id,
        username=user.username,
        email=user.email,
        role=ROLE_TO_PROTO[user.role],
        plan=PLAN_TO_PROTO[user.plan],
        created_at=user.created_at,
    )


class AuthServicer(pb_grpc.AuthServiceServicer):
    """Users, tokens, keys and audit."""

    def __init__(self, users: UserStore) -> None:
        self.users = users

    async def Register(
        self, request: pb.RegisterRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterResponse:
        """Creates a user (argon2id hashing runs off the event loop)."""
        user = await asyncio.to_thread(self.users.register, request.username, request.email, request.password)
        return pb.RegisterResponse(user=user_to_proto(user))

    async def GetProfile(
        self, request: pb.GetProfileRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetProfileResponse:
        """A user's profile."""
        return pb.GetProfileResponse(user=user_to_proto(self.users.get(request.user_id)))
