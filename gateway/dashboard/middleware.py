"""One pure-ASGI middleware for what every request shows operators: Prometheus counts, latency and
in-flight, and, for inference requests, the ``inference_started`` / ``inference_completed`` events of
the Socket.IO stream. (Server spans come from FastAPI's native telemetry when an exporter records
them, and from ``gateway/trace_context.py`` when none does; either continues a caller's ``traceparent``.)

Streams pass through untouched: while a client subscribes to ``inference_events``, bodies are
observed as they go by (the request's to name the model, at most the first 64 KiB of the response's
to read token counts and the device), never buffered; otherwise they are not looked at.
"""

from __future__ import annotations

import functools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.events import EventHub
from services.common.metrics import HTTP_IN_FLIGHT, HTTP_LATENCY, HTTP_REQUESTS, INFERENCE_EVENTS

#: Paths whose POSTs are inference requests, on every surface.
INFERENCE_PATHS = re.compile(
    r"/predict|/synthesize|/transcribe|/v1/models/[^/]+/predict|/v1/(chat/)?completions|/v1/audio/.+"
    r"|/api/v1/(infer|batch_infer|stream_infer)|/v2/models/[^/]+(/versions/[^/]+)?/infer|/api/ai/inference.*"
)
_PATH_MODEL = re.compile(r"^/v[12]/models/(?P<model>[^/]+)/")
_CAPTURE = 64 * 1024


class ObservabilityMiddleware:
    """Spans, metrics and inference events for every HTTP request."""

    def __init__(self, app: ASGIApp, hub: EventHub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wraps one request."""
        if scope["type"] != "http" or scope["path"].startswith("/socket.io"):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        inference = method == "POST" and INFERENCE_PATHS.fullmatch(path) is not None
        # Bodies are only looked at for the Socket.IO events: with no subscriber (the usual case)
        # the predict hot path neither copies nor parses them.
        listened = inference and self.hub.listening("inference_events")
        watch = _Watch(self.hub, scope, path) if listened else None
        status = [500]
        started = time.perf_counter()
        HTTP_IN_FLIGHT.inc()

        async def receive_observed() -> Message:
            message = await receive()
            if watch is not None and message["type"] == "http.request":
                await watch.request_chunk(message)
            return message

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and watch is not None:
                watch.response_chunk(message)
            await send(message)

        try:
            await self.app(scope, receive_observed if watch else receive, send_observed)
        finally:
            HTTP_IN_FLIGHT.dec()
            elapsed = time.perf_counter() - started
            route = _route_of(scope)
            _requests(method, route, status[0]).inc()
            _latency(method, route).observe(elapsed)
            if inference:
                _INFERENCE_OUTCOME[status[0] < 400].inc()
            if watch is not None:
                await watch.completed(status[0], elapsed)


# A metric's labelled child, looked up once per label set: ``labels()`` validates and locks on every
# call, three times per request.
@functools.lru_cache(maxsize=1024)
def _requests(method: str, route: str, status: int) -> Counter:
    return HTTP_REQUESTS.labels(method, route, str(status))


@functools.lru_cache(maxsize=1024)
def _latency(method: str, route: str) -> Histogram:
    return HTTP_LATENCY.labels(method, route)


_INFERENCE_OUTCOME = {True: INFERENCE_EVENTS.labels("ok"), False: INFERENCE_EVENTS.labels("error")}


def _route_of(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "") or "unmatched")


@dataclass(eq=False)
class _Watch:
    """Follows one inference request to emit its started and completed events."""

    hub: EventHub
    scope: Scope
    path: str
    body: bytearray = field(default_factory=bytearray, init=False)
    response: bytearray = field(default_factory=bytearray, init=False)
    model: str = field(default="", init=False)
    started_at: float = field(default_factory=time.perf_counter, init=False)
    announced: bool = field(default=False, init=False)

    @property
    def request_id(self) -> str:
        return str(self.scope.get("state", {}).get("request_id", ""))

    async def request_chunk(self, message: Message) -> None:
        if len(self.body) < _CAPTURE:
            self.body.extend(message.get("body", b"")[: _CAPTURE - len(self.body)])
        if message.get("more_body") or self.announced:
            return
        self.announced = True
        self.model = _model_of(self.path, bytes(self.body))
        await self.hub.publish(
            "inference_started",
            "inference_events",
            {"request_id": self.request_id, "model": self.model or None, "endpoint": self.path},
        )

    def response_chunk(self, message: Message) -> None:
        if len(self.response) < _CAPTURE:
            self.response.extend(message.get("body", b"")[: _CAPTURE - len(self.response)])

    async def completed(self, status: int, elapsed: float) -> None:
        ok = status < 400
        facts = _response_facts(bytes(self.response))
        await self.hub.publish(
            "inference_completed",
            "inference_events",
            {
                "request_id": self.request_id,
                "model": self.model or facts.get("model"),
                "endpoint": self.path,
                "status_code": status,
                "success": ok,
                "tokens_generated": facts.get("tokens"),
                "inference_time": round(elapsed, 6),
                "queue_time": None,  # the gateway cannot see Triton's queue; /stats has queue_ms per model
                "backend": facts.get("device"),
            },
        )


def _model_of(path: str, body: bytes) -> str:
    match = _PATH_MODEL.match(path)
    if match:
        return match["model"]
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        return ""
    if not isinstance(payload, dict):
        return ""
    for key in ("model", "model_name", "model_id"):
        if isinstance(payload.get(key), str):
            return str(payload[key])
    return ""


def _response_facts(body: bytes) -> dict[str, Any]:
    """Token count, device and model from a JSON response, when it says them."""
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        return {}
    if not isinstance(payload, dict):
        return {}
    facts: dict[str, Any] = {}
    usage = payload.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
        facts["tokens"] = usage["completion_tokens"]
    for key in ("tokens_generated", "tokens_used"):
        if isinstance(payload.get(key), int):
            facts.setdefault("tokens", payload[key])
    info: dict[str, Any] = payload["model_info"] if isinstance(payload.get("model_info"), dict) else {}
    device = payload.get("device") or payload.get("backend") or info.get("device")
    if isinstance(device, str):
        facts["device"] = device
    model = payload.get("model") or payload.get("model_name") or info.get("model")
    if isinstance(model, str):
        facts["model"] = model
    return facts
