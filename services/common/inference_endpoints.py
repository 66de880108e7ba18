"""Every inference endpoint that discovery lists (a static list, Consul's healthy instances, or the
pods behind a Kubernetes headless Service), each with a gRPC stub of its own: what an inference
replica passes model commands on to, and what the autoscaler reads the pool's statistics from and
sizes the local worker pools of."""

from __future__ import annotations

import grpc

from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.clients import CHANNEL_OPTIONS
from services.common.discovery import Discovery


class InferenceEndpoints:
    """The inference replicas, resolved at each call, their channels kept."""

    def __init__(self, discovery: Discovery) -> None:
        self.discovery = discovery
        self._channels: dict[str, grpc.aio.Channel] = {}

    async def stubs(self) -> list[tuple[str, ipb_grpc.InferenceServiceStub]]:
        """Each endpoint's address and stub, in discovery's order."""
        return [(i.address, self.stub(i.address)) for i in await self.discovery.resolve("inference")]

    def stub(self, address: str) -> ipb_grpc.InferenceServiceStub:
        """A stub of one endpoint."""
        channel = self._channels.get(address)
        if channel is None:
            channel = self._channels[address] = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        return ipb_grpc.InferenceServiceStub(channel)

    async def close(self) -> None:
        """Closes the per-endpoint channels."""
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
