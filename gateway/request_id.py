"""``X-Request-ID`` on every request and response, carried into gRPC calls."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.context import new_request_id, request_id_var

_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(request: object) -> str:
    """The request id of a request (set by the middleware)."""
    scope = getattr(request, "scope", {})
    return str(scope.get("state", {}).get("request_id") or request_id_var.get() or new_request_id())


class RequestIdMiddleware:
    """Pure ASGI middleware (streams pass through untouched) that assigns and echoes request ids."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Sets the id in the scope and the context, and adds the header to the response."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = sent if _VALID.match(sent) else new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        request_id_var.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
