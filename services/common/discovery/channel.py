"""A channel that follows a dynamic discovery's current target."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import grpc

from services.common.discovery.base import Discovery

log = logging.getLogger("meshserve.discovery")


@dataclass(eq=False)
class FollowingChannel:
    """A ``grpc.aio.Channel`` stand-in whose calls go to a service's current target.

    Stubs are built once over a channel, while a dynamic discovery's target changes (instances come and
    go). Each call looks the target up (a dictionary read) and uses the channel of that target; a channel
    left behind is closed with a grace period so that its in-flight calls finish.
    """

    service: str
    discovery: Discovery
    options: tuple[tuple[str, Any], ...]
    grace_seconds: float = 60.0
    _target: str = field(default="", init=False)
    _channel: grpc.aio.Channel | None = field(default=None, init=False)
    _closing: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def current(self) -> grpc.aio.Channel:
        """The channel to the service's target now, replaced when the target changed."""
        target = self.discovery.target(self.service)
        if self._channel is None or target != self._target:
            old = self._channel
            options = (*self.options, *self.discovery.channel_options(self.service))
            self._channel, self._target = grpc.aio.insecure_channel(target, options=options), target
            if old is not None:
                task = asyncio.get_running_loop().create_task(old.close(self.grace_seconds))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            log.info("channel follows discovery", extra={"service": self.service, "target": target})
        return self._channel

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> _Deferred:
        """A multicallable bound at call time."""
        return _Deferred(self, "unary_unary", method, args, kwargs)

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> _Deferred:
        """A multicallable bound at call time."""
        return _Deferred(self, "unary_stream", method, args, kwargs)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> _Deferred:
        """A multicallable bound at call time."""
        return _Deferred(self, "stream_unary", method, args, kwargs)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> _Deferred:
        """A multicallable bound at call time."""
        return _Deferred(self, "stream_stream", method, args, kwargs)

    async def channel_ready(self) -> None:
        """Waits until the current channel is connected."""
        await self.current().channel_ready()

    async def close(self, grace: float | None = None) -> None:
        """Closes the current channel and waits for the ones being retired."""
        if self._channel is not None:
            await self._channel.close(grace)
            self._channel = None
        for task in list(self._closing):
            task.cancel()
        await asyncio.gather(*self._closing, return_exceptions=True)


class _Deferred:
    """A multicallable that picks its real channel when called."""

    def __init__(self, owner: FollowingChannel, kind: str, method: str, args: Any, kwargs: Any) -> None:
        self._owner, self._kind, self._method, self._args, self._kwargs = owner, kind, method, args, kwargs
        self._bound: tuple[grpc.aio.Channel, Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        channel = self._owner.current()
        if self._bound is None or self._bound[0] is not channel:
            factory = getattr(channel, self._kind)
            self._bound = (channel, factory(self._method, *self._args, **self._kwargs))
        return self._bound[1](*args, **kwargs)
