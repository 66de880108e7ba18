"""FastAPI dependency aliases shared by the dialects."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gateway.clients import MeshClients
from gateway.settings import GatewaySettings

# The dependencies are coroutines on purpose: FastAPI runs a plain ``def`` dependency in its thread
# pool, a thread hop per request on the predict hot path.


async def get_clients(request: Request) -> MeshClients:
    """The process-wide gRPC clients."""
    return request.app.state.clients


async def get_settings(request: Request) -> GatewaySettings:
    """The gateway settings."""
    return request.app.state.settings


async def started_at(request: Request) -> float:
    """Unix time the gateway started."""
    return request.app.state.started_at


Clients = Annotated[MeshClients, Depends(get_clients)]
Settings = Annotated[GatewaySettings, Depends(get_settings)]
