"""Document 004 §7's ``plugin_events`` channel: ``plugin_loaded``, ``plugin_unloaded`` and
``plugin_error`` over Socket.IO, from a change made through any surface."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import socketio

from gateway.plugin_events import PluginSeen, plugin_changes
from meshserve.v1 import inference_pb2 as pb
from tests.procs import Mesh

LOADED, AVAILABLE, FAILED = pb.PLUGIN_STATUS_LOADED, pb.PLUGIN_STATUS_AVAILABLE, pb.PLUGIN_STATUS_FAILED


def seen(status: int, failures: int = 0, loaded_at: float = 1.0, reason: str = "") -> PluginSeen:
    return PluginSeen(status, failures, loaded_at, reason, "Guard", "0.1.0")


def test_changes_between_two_looks() -> None:
    assert [e for e, _ in plugin_changes("g", seen(AVAILABLE), seen(LOADED))] == ["plugin_loaded"]
    assert [e for e, _ in plugin_changes("g", seen(LOADED), seen(LOADED, loaded_at=2.0))] == ["plugin_loaded"]
    assert [e for e, _ in plugin_changes("g", seen(LOADED), seen(AVAILABLE))] == ["plugin_unloaded"]
    assert plugin_changes("g", seen(LOADED), seen(LOADED)) == []
    ((event, data),) = plugin_changes("g", seen(AVAILABLE), seen(FAILED, reason="ImportError: x"))
    assert event == "plugin_error" and data["error"] == "ImportError: x" and data["plugin_id"] == "g"
    ((event, data),) = plugin_changes("g", seen(LOADED, failures=1), seen(LOADED, failures=3))
    assert event == "plugin_error" and data["failures"] == 3 and "2 run(s) failed" in data["error"]


async def test_loads_and_unloads_reach_subscribers(mesh: Mesh) -> None:
    client = socketio.AsyncClient()
    received: list[tuple[str, dict[str, Any]]] = []
    arrived = asyncio.Event()

    def keep(event: str) -> Any:
        async def handler(data: dict[str, Any]) -> None:
            received.append((event, data))
            arrived.set()

        return handler

    for event in ("plugin_loaded", "plugin_unloaded", "plugin_error"):
        client.on(event, keep(event))
    await client.connect(mesh.base_url, transports=["websocket"])
    try:
        ack = await client.call("subscribe", {"channels": ["plugin_events"]}, timeout=5)
        assert ack["success"] and ack["subscribed"] == ["plugin_events"]
        await asyncio.sleep(2.5)  # one period: the baseline the next look is compared with
        async with httpx.AsyncClient(base_url=mesh.base_url, timeout=30) as http:
            (await http.post("/api/v1/plugins/response_filter/load")).raise_for_status()
            await asyncio.wait_for(arrived.wait(), 10)
            arrived.clear()
            (await http.delete("/api/v1/plugins/response_filter/unload")).raise_for_status()
            await asyncio.wait_for(arrived.wait(), 10)
    finally:
        await client.disconnect()
    events = [(event, data["data"]["plugin_id"]) for event, data in received]
    assert events == [("plugin_loaded", "response_filter"), ("plugin_unloaded", "response_filter")]
    assert received[0][1]["event"] == "plugin_loaded" and received[0][1]["timestamp"].endswith("Z")
