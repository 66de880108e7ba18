"""In-process gRPC servers for the tests: one servicer, served on a free local port (a real socket)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc


async def start_servicer(
    add: Callable[[Any, grpc.aio.Server], None], servicer: Any, **options: Any
) -> tuple[grpc.aio.Server, int]:
    """A started ``grpc.aio`` server of one servicer (``add`` is its generated ``add_…_to_server``)
    and its port; ``options`` go to ``grpc.aio.server`` (interceptors, say). Stop it when done."""
    server = grpc.aio.server(**options)
    add(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port
