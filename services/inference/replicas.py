"""The other replicas of this inference service, for the model commands that must reach them all.

A request may land on any inference replica, so what an explicit load sets (batching, device,
workers, a quantized variant) and what an unload leaves (MODEL_NOT_LOADED until the next load, or
a standby model) must hold on every replica alike. A replica that has carried out ``LoadModel`` or
``UnloadModel`` passes the same request on to every other inference instance that discovery lists
(a static list, Consul's healthy instances, or the pods behind a Kubernetes headless Service),
marked ``this_replica_only`` so that it goes no further, and waits for them.

The caller's answer is this replica's. A replica that fails or does not answer is logged and left
out: it is starting or stopping, and a starting replica begins with nothing loaded, as the others
do after an unload. Telling this replica itself again would do no harm (both commands are
idempotent); it is left out when discovery names it by this process's port on a local address.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.clients import unary_call
from services.common.discovery import Discovery
from services.common.errors import MeshError
from services.common.inference_endpoints import InferenceEndpoints

log = logging.getLogger("meshserve.inference.replicas")

Reply = TypeVar("Reply")
#: One command sent to one replica, given that replica's stub and the time it may take.
Command = Callable[[ipb_grpc.InferenceServiceStub, float], Awaitable[Reply]]

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::"}


class InferenceReplicas:
    """Sends a model command to every other inference replica."""

    def __init__(self, discovery: Discovery, own_host: str, own_port: int) -> None:
        self.discovery = discovery
        self.own_port = own_port
        self.own_hosts = _LOCAL_HOSTS | {own_host, _host_address()}
        self.endpoints = InferenceEndpoints(discovery)

    async def others(self) -> list[str]:
        """Addresses of the inference instances other than this one."""
        instances = await self.discovery.resolve("inference")
        return [i.address for i in instances if not (i.port == self.own_port and i.host in self.own_hosts)]

    async def tell_all(self, what: str, command: Command[Reply], timeout: float) -> list[Reply]:
        """Runs ``command`` on every other replica at once; the answers of those that answered."""
        addresses = await self.others()
        answers = await asyncio.gather(
            *(command(self.endpoints.stub(address), timeout) for address in addresses), return_exceptions=True
        )
        answered: list[Reply] = []
        for address, answer in zip(addresses, answers, strict=True):
            if isinstance(answer, BaseException):
                message = answer.message if isinstance(answer, MeshError) else repr(answer)
                log.warning(
                    "%s not passed on to a replica", what, extra={"replica": address, "error": message}
                )
            else:
                answered.append(answer)
        return answered

    async def load(self, request: ipb.LoadModelRequest, timeout: float) -> None:
        """Passes a load this replica carried out on to the others."""
        passed = ipb.LoadModelRequest()
        passed.CopyFrom(request)
        passed.this_replica_only = True
        await self.tell_all(
            "load", lambda stub, left: unary_call(stub.LoadModel, passed, timeout=left), timeout
        )

    async def unload(self, request: ipb.UnloadModelRequest, timeout: float) -> int:
        """Passes an unload this replica carried out on to the others; the bytes they freed."""
        passed = ipb.UnloadModelRequest()
        passed.CopyFrom(request)
        passed.this_replica_only = True
        replies = await self.tell_all(
            "unload", lambda stub, left: unary_call(stub.UnloadModel, passed, timeout=left), timeout
        )
        return sum(reply.freed_memory_bytes for reply in replies)

    async def close(self) -> None:
        """Closes the channels to the other replicas."""
        await self.endpoints.close()


def _host_address() -> str:
    """This machine's address as peers see it (a pod's IP under Kubernetes)."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"
