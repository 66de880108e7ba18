"""The gateway's live events: document 004 §7's Socket.IO endpoint at ``/socket.io``, which the
ops dashboard also reads (``EventHub``: sessions, subscriptions and the publisher tasks).

Clients ``emit('subscribe', {channels: [...]})`` (and ``unsubscribe``). Channels and events:
``system_metrics`` and ``inference_stats`` every ``events_period_seconds`` (default 2 s),
``gpu_metrics`` likewise, one event per GPU (none on a CPU-only machine), ``inference_events``
(``inference_started`` / ``inference_completed`` for every inference request through the gateway),
``autoscaler_decisions`` (``autoscaler_decision``, from the autoscaler's ``WatchDecisions``), and
``plugin_events`` (``plugin_loaded``, ``plugin_unloaded`` and ``plugin_error``: the inference service's
plugin list compared with the previous period's, so a change made through any surface or gRPC is
seen within one period), and, beyond 004, ``metrics_samples`` (``metrics_sample``: each new point of
the autoscaler's metrics series, which the dashboard's charts extend themselves with).
Each event carries the §7.3 shape ``{"event", "timestamp", "data"}`` with the data's fields repeated at
the top level, as §7.2's examples read them (``data.request_id``).

With auth on, a client authenticates with a header (``Authorization``/``X-API-Key``, checked by the
security middleware) or, as §7.1 shows, with ``auth: {token}`` in its connect packet; every channel is
monitoring data and needs the ``read`` role. A refused connect gets the 004 error body as its
``connect_error`` data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import grpc
import socketio
from starlette.requests import HTTPConnection

from gateway.budget_events import BudgetRelay
from gateway.clients import MeshClients
from gateway.dialects.llama_gpu.errors import render
from gateway.event_listeners import SharedListeners
from gateway.event_payloads import inference_stats_payload
from gateway.plugin_events import PluginSeen, plugin_changes
from gateway.request_id import request_id_of
from gateway.security.in_band import authenticate_in_band, token_of
from gateway.series import SampleRelay
from meshserve.v1 import autoscaler_pb2 as apb
from meshserve.v1 import inference_pb2 as ipb
from services.common.clients import call_metadata
from services.common.errors import MeshError
from services.common.metrics import HostSnapshot, host_snapshot, network_rates

if TYPE_CHECKING:  # the dashboard package imports this module
    from gateway.dashboard.settings import OpsSettings

log = logging.getLogger("meshserve.gateway.events")

CHANNELS = (
    "system_metrics",
    "gpu_metrics",
    "inference_stats",
    "inference_events",
    "autoscaler_decisions",
    "plugin_events",
    "metrics_samples",
    "budget_events",
)


#: Channels whose events happen on one replica and concern every client (a request served by
#: gateway A is news to a client of gateway B): with a shared Redis they go through it. The periodic
#: channels are each replica's own view, sent to its own clients only, so nobody gets N copies.
MESH_WIDE = frozenset({"inference_events"})


def now_iso() -> str:
    """The current UTC time as 004 writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def envelope(event: str, data: dict[str, Any]) -> dict[str, Any]:
    """A §7.3 event body, with the data's fields also at the top level."""
    return {**data, "event": event, "timestamp": now_iso(), "data": data}


class EventHub:
    """The Socket.IO server, its subscriptions and the publishers that feed them."""

    def __init__(self, settings: OpsSettings) -> None:
        self.settings = settings
        origins: Any = settings.socketio_cors_origins or []
        #: Whether gateway replicas share Socket.IO through Redis.
        self.shared = bool(settings.socketio_redis_url)
        manager = (
            socketio.AsyncRedisManager(settings.socketio_redis_url, channel="meshserve.socketio")
            if self.shared
            else None
        )
        self.sio = socketio.AsyncServer(
            async_mode="asgi", cors_allowed_origins=origins, logger=False, client_manager=manager
        )
        self.asgi = socketio.ASGIApp(self.sio, socketio_path="socket.io")
        #: Which mesh-wide channels a client of some replica listens to (``gateway/event_listeners.py``).
        self.listeners = (
            SharedListeners(
                settings.socketio_redis_url, MESH_WIDE, settings.events_period_seconds, self._listening_here
            )
            if self.shared
            else None
        )
        self.clients: MeshClients | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._host: HostSnapshot | None = None
        #: The plugins as the last period saw them (None until someone listens to plugin_events).
        self._plugins: dict[str, PluginSeen] | None = None
        self._samples = SampleRelay()
        self._budgets = BudgetRelay(self)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("subscribe", self._on_subscribe)
        self.sio.on("unsubscribe", self._on_unsubscribe)

    # ---- client handlers ----------------------------------------------------------------------

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        scope = environ.get("asgi.scope", {})
        client = scope.get("client") or ("", 0)
        if "app" in scope:
            try:  # headers were checked by the middleware; 004 §7.1's auth.token is checked here
                principal = await authenticate_in_band(scope, token_of(auth))
            except MeshError as error:
                log.info("socket.io connection refused", extra={"reason": error.code, "sid": sid})
                # Socket.IO's connect_error carries {message, data}: data is the 004 error body.
                raise socketio.exceptions.ConnectionRefusedError(
                    error.message, render(error, request_id_of(HTTPConnection(scope)))
                ) from None
        else:
            principal = None
        self.sessions[sid] = {
            "session_id": sid,
            "connected_at": now_iso(),
            "remote_address": client[0],
            "user_agent": environ.get("HTTP_USER_AGENT", ""),
            "transport": "websocket" if scope.get("type") == "websocket" else "polling",
            "user_id": principal.user_id if principal else "anonymous",
            "role": principal.role if principal else "",
        }
        await self.sio.emit(
            "connected", envelope("connected", {"sid": sid, "channels": list(CHANNELS)}), to=sid
        )

    async def _on_disconnect(self, sid: str, *args: Any) -> None:
        self.sessions.pop(sid, None)
        await self._announce_listeners()

    def channels_of(self, sid: str) -> list[str]:
        """The channels a session is subscribed to."""
        return [room for room in self.sio.rooms(sid) if room in CHANNELS]

    async def _on_subscribe(self, sid: str, data: Any = None) -> dict[str, Any]:
        channels = _channels(data)
        unknown = [c for c in channels if c not in CHANNELS]
        for channel in channels:
            if channel in CHANNELS:
                await self.sio.enter_room(sid, channel)
        await self._announce_listeners()
        return {
            "success": not unknown,
            "subscribed": [c for c in channels if c in CHANNELS],
            "unknown": unknown,
        }

    async def _on_unsubscribe(self, sid: str, data: Any = None) -> dict[str, Any]:
        channels = [c for c in _channels(data) if c in CHANNELS]
        for channel in channels:
            await self.sio.leave_room(sid, channel)
        await self._announce_listeners()
        return {"success": True, "unsubscribed": channels}

    @property
    def running(self) -> bool:
        """Whether the publishers run (started with the app, and none has ended)."""
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    def listening(self, channel: str) -> bool:
        """Whether any client is subscribed to a channel: of this replica, or, for a mesh-wide
        channel shared through Redis, of any replica."""
        if self.listeners is not None and channel in self.listeners.heard:
            return True
        return self._listening_here(channel)

    def _listening_here(self, channel: str) -> bool:
        # A session on its way out is still in its rooms while its disconnect handler runs.
        manager = self.sio.manager
        return any(manager.is_connected(sid, "/") for sid, _ in manager.get_participants("/", channel))

    async def _announce_listeners(self) -> None:
        """Tells the other replicas which mesh-wide channels this one now has listeners to."""
        if self.listeners is not None:
            await self.listeners.announce()

    # ---- publishing ----------------------------------------------------------------------------

    async def publish(self, event: str, channel: str, data: dict[str, Any]) -> None:
        """Sends one event to a channel's subscribers (nothing when there are none): mesh-wide
        channels to every replica's, the rest to this replica's own."""
        if self.listening(channel):
            await self.sio.emit(
                event, envelope(event, data), room=channel, ignore_queue=channel not in MESH_WIDE
            )

    def start(self, clients: MeshClients) -> None:
        """Starts the periodic publishers and the decision watch."""
        self.clients = clients
        self._host = host_snapshot()  # the first event's network rates need a previous snapshot
        self._tasks = [asyncio.create_task(self._periodic()), asyncio.create_task(self._decisions())]
        if self.listeners is not None:
            self._tasks.append(asyncio.create_task(self.listeners.follow()))

    async def stop(self) -> None:
        """Stops the publishers."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self.listeners is not None:
            await self.listeners.close()

    async def _periodic(self) -> None:
        period = self.settings.events_period_seconds
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            try:
                await self._tick()
            except Exception:  # a failed tick must not end the stream
                log.exception("event tick failed")
            next_at = max(next_at + period, loop.time())
            await asyncio.sleep(next_at - loop.time())

    async def _tick(self) -> None:
        if self.listeners is not None:
            await self.listeners.renew()
        await self._plugin_events()
        await self._metrics_samples()
        await self._budgets.tick()
        wants_system = self.listening("system_metrics")
        wants_stats = self.listening("inference_stats")
        wants_gpu = self.listening("gpu_metrics")
        if not (wants_system or wants_stats or wants_gpu):
            return
        stats = await self._stats() if (wants_system or wants_stats) else None
        if wants_system:
            await self.publish("system_metrics", "system_metrics", self._system(stats))
        if wants_stats:
            await self.publish("inference_stats", "inference_stats", inference_stats_payload(stats))
        if wants_gpu:
            for gpu in await self._gpus():
                await self.publish("gpu_metrics", "gpu_metrics", gpu)

    async def _plugin_events(self) -> None:
        """``plugin_loaded``/``plugin_unloaded``/``plugin_error`` for what changed since last period."""
        if not self.listening("plugin_events"):
            self._plugins = None  # a new listener starts from a fresh baseline
            return
        assert self.clients is not None
        try:
            reply = await self.clients.call(
                self.clients.inference.ListPlugins, ipb.ListPluginsRequest(), timeout=2.0
            )
        except MeshError:
            return
        now = {p.id: PluginSeen.of(p) for p in reply.plugins}
        before, self._plugins = self._plugins, now
        if before is None:
            return
        for plugin_id, seen in now.items():
            for event, data in plugin_changes(plugin_id, before.get(plugin_id), seen):
                await self.publish(event, "plugin_events", data)

    async def _metrics_samples(self) -> None:
        """Relays the autoscaler's samples that are new since the last period."""
        if not self.listening("metrics_samples"):
            self._samples = SampleRelay()  # a new listener starts from the newest sample
            return
        assert self.clients is not None
        try:
            reply = await self.clients.call(
                self.clients.autoscaler.GetMetricsHistory,
                apb.GetMetricsHistoryRequest(
                    timeframe_seconds=max(60.0, 20 * self.settings.events_period_seconds)
                ),
                timeout=2.0,
            )
        except MeshError:
            return
        for point in self._samples.fresh(reply):
            await self.publish("metrics_sample", "metrics_samples", point)

    async def _stats(self) -> ipb.GetStatsResponse | None:
        assert self.clients is not None
        try:
            return await self.clients.call(
                self.clients.inference.GetStats, ipb.GetStatsRequest(), timeout=2.0
            )
        except MeshError:
            return None

    def _system(self, stats: ipb.GetStatsResponse | None) -> dict[str, Any]:
        host = host_snapshot()
        rx, tx = network_rates(self._host, host)
        self._host = host
        return {
            "cpu_usage": host.cpu_percent,
            "memory_usage": host.memory_percent,
            "disk_usage": host.disk_percent,
            "network_rx": round(rx),
            "network_tx": round(tx),
            "active_requests": sum(m.in_flight for m in stats.models) if stats else None,
            "request_rate": round(sum(m.request_rate for m in stats.models), 4) if stats else None,
        }

    async def _gpus(self) -> list[dict[str, Any]]:
        assert self.clients is not None
        try:
            info = await self.clients.call(
                self.clients.inference.GetDeviceInfo, ipb.GetDeviceInfoRequest(), timeout=2.0
            )
        except MeshError:
            return []
        return [
            {
                "gpu_id": int(d.id.split(":")[1]),
                "name": d.name,
                "utilization": d.utilization_percent if d.HasField("utilization_percent") else None,
                "memory_used": d.memory_used_bytes // (1024 * 1024),
                "memory_total": d.memory_total_bytes // (1024 * 1024),
                "temperature": d.temperature_celsius if d.HasField("temperature_celsius") else None,
            }
            for d in info.devices
            if d.id.startswith("cuda:")
        ]

    async def _decisions(self) -> None:
        """Relays the autoscaler's decisions while anyone listens; reconnects after failures."""
        while True:
            if not self.listening("autoscaler_decisions") or self.clients is None:
                await asyncio.sleep(self.settings.events_period_seconds)
                continue
            stream = self.clients.autoscaler.WatchDecisions(
                apb.WatchDecisionsRequest(), metadata=call_metadata()
            )
            try:
                async for item in stream:
                    d = item.decision
                    await self.publish(
                        "autoscaler_decision",
                        "autoscaler_decisions",
                        {
                            "target": d.target,
                            "from_replicas": d.from_replicas,
                            "to_replicas": d.to_replicas,
                            "reason": d.reason,
                            "trigger": d.trigger,
                            "applied": d.applied,
                            "time": d.time,
                        },
                    )
                    if not self.listening("autoscaler_decisions"):
                        break
            except grpc.aio.AioRpcError:
                await asyncio.sleep(self.settings.events_period_seconds)
            finally:
                stream.cancel()


def _channels(data: Any) -> list[str]:
    if isinstance(data, dict):
        data = data.get("channels", [])
    if isinstance(data, str):
        data = [data]
    return [str(c) for c in data] if isinstance(data, list) else []
