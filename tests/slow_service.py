"""A real service process whose GetAutoscalerStats takes ``SLOW_SECONDS``: for the drain test."""

from __future__ import annotations

import asyncio
import os

import grpc

from meshserve.v1 import autoscaler_pb2 as pb
from services.autoscaler import server
from services.autoscaler.servicer import AutoscalerServicer
from services.autoscaler.settings import AutoscalerSettings
from services.common.server import main


async def _slow(
    self: AutoscalerServicer, request: pb.GetAutoscalerStatsRequest, context: grpc.aio.ServicerContext
):
    await asyncio.sleep(float(os.environ.get("SLOW_SECONDS", "2")))
    return pb.GetAutoscalerStatsResponse(running=True, evaluations=42)


AutoscalerServicer.GetAutoscalerStats = _slow  # type: ignore[method-assign]

if __name__ == "__main__":
    main("autoscaler", AutoscalerSettings, server.build)
