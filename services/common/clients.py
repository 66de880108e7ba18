"""Outbound gRPC: pooled channels, deadlines, request id and trace propagation, bounded retries.

Every outbound call gets a deadline (the inbound one when shorter), carries ``x-request-id``,
the caller identity and ``traceparent``, and is retried only when idempotent and only on
UNAVAILABLE, with jittered exponential backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from typing import Any

import grpc

from services.common.context import (
    CALLER_HEADER,
    REQUEST_ID_HEADER,
    caller_var,
    current_request_id,
    remaining_seconds,
    tenant_metadata,
)
from services.common.discovery import Discovery, FollowingChannel, StaticDiscovery, discovery_from_env
from services.common.errors import MeshError
from services.common.internal_auth import outbound_metadata
from services.common.settings import MeshEndpoints
from services.common.tracing import metadata_with_trace

CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.enable_retries", 0),
    # A service that restarts is reached again within a second of answering (gRPC's defaults wait
    # 1 s, then 1.6 s, 2.6 s... between attempts, up to two minutes).
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
)


def context_metadata() -> list[tuple[str, str]]:
    """The current call context as metadata: request id, caller, tenant and trace context (what one
    request of a batch carries in its item; a call of its own adds the internal token)."""
    base = [(REQUEST_ID_HEADER, current_request_id())]
    caller = caller_var.get()
    if caller:
        base.append((CALLER_HEADER, caller))
    base.extend(tenant_metadata())
    return metadata_with_trace(base)


def call_metadata(extra: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
    """Metadata of an outbound call: request id, caller, tenant, trace context and internal token."""
    return [*context_metadata(), *outbound_metadata(), *extra]


class ChannelPool:
    """One long-lived channel per service address, shared by every caller in the process."""

    def __init__(self, endpoints: MeshEndpoints | None = None, discovery: Discovery | None = None) -> None:
        self.endpoints = endpoints or MeshEndpoints()
        # MESHSERVE_DISCOVERY picks the backend; unset, it is static and channels are built as always.
        self.discovery = discovery or discovery_from_env(self.endpoints)
        self._channels: dict[str, grpc.aio.Channel] = {}

    def channel(self, service: str) -> grpc.aio.Channel:
        """The channel to a service, created on first use."""
        if not isinstance(self.discovery, StaticDiscovery):
            return self._discovered_channel(service)
        address = self.endpoints.address_of(service)
        channel = self._channels.get(address)
        if channel is None:  # one address, or a comma-separated list of replicas (round robin)
            options = (*CHANNEL_OPTIONS, *self.discovery.channel_options(service))
            channel = grpc.aio.insecure_channel(self.discovery.target(service), options=options)
            self._channels[address] = channel
        return channel

    def _discovered_channel(self, service: str) -> grpc.aio.Channel:
        """A channel over the discovery's target: fixed (Kubernetes DNS) or following it (Consul)."""
        key = f"discovery:{service}"
        channel = self._channels.get(key)
        if channel is None:
            if self.discovery.dynamic:
                channel = FollowingChannel(service, self.discovery, CHANNEL_OPTIONS)
            else:
                options = (*CHANNEL_OPTIONS, *self.discovery.channel_options(service))
                channel = grpc.aio.insecure_channel(self.discovery.target(service), options=options)
            self._channels[key] = channel
        return channel

    async def connected(self, service: str, wait_seconds: float, *, after_failure: bool = False) -> None:
        """Returns once the service's channel is not failing to connect, or after ``wait_seconds``.

        A channel that has lost every replica (a restart in progress) fails a call at once without
        sending it. Waiting here first lets a call that was never sent ride out a restart; past the
        wait the call goes on and fails fast (UNAVAILABLE). A connected channel costs one state read.
        ``after_failure`` waits for a connection whatever the state (a channel whose connection just
        broke is idle until the next call tries, which would fail at once).
        """
        channel = self._channel_now(service)
        if not after_failure and channel.get_state() is not grpc.ChannelConnectivity.TRANSIENT_FAILURE:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(channel.channel_ready(), wait_seconds)

    def _channel_now(self, service: str) -> grpc.aio.Channel:
        channel = self.channel(service)
        return channel.current() if isinstance(channel, FollowingChannel) else channel

    def stub(self, service: str, stub_cls: Callable[[grpc.aio.Channel], Any]) -> Any:
        """A generated stub over the pooled channel of a service."""
        return stub_cls(self.channel(service))

    async def close(self) -> None:
        """Closes every channel."""
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
        await self.discovery.close()


#: Codes an idempotent call is tried again on: the peer is away, or stopped while the call ran.
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)


async def unary_call(
    method: Callable[..., Any],
    request: Any,
    *,
    timeout: float,
    idempotent: bool = False,
    attempts: int = 3,
    retry_seconds: float = 0.0,
    metadata: tuple[tuple[str, str], ...] = (),
) -> Any:
    """Calls a unary method with deadline and propagation; raises :class:`MeshError` on failure.

    An idempotent call is tried again on UNAVAILABLE or CANCELLED: ``attempts`` times in all, or,
    with ``retry_seconds``, for as long as that (a restart of the service it calls takes seconds).
    """
    tries = attempts if idempotent else 1
    give_up = time.monotonic() + retry_seconds
    attempt = 0
    while True:
        try:
            return await method(request, timeout=remaining_seconds(timeout), metadata=call_metadata(metadata))
        except grpc.aio.AioRpcError as error:
            pause = backoff_seconds(attempt, cap=0.5)
            if retry_seconds > 0:
                again = idempotent and time.monotonic() + pause < give_up
            else:
                again = attempt + 1 < tries
            if error.code() in RETRYABLE and again:
                await asyncio.sleep(pause)
                attempt += 1
                continue
            raise MeshError.from_rpc_error(error) from None


def backoff_seconds(attempt: int, base: float = 0.05, cap: float = 1.0) -> float:
    """Full-jitter exponential backoff."""
    return random.uniform(0, min(cap, base * 2**attempt))
