"""Document 004's ``X-API-Version`` header: every ``/api/v1`` response carries the version served,
and a request asking for a version this gateway does not serve is refused (400, 004's envelope)
before any route runs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import error_response
from services.common.errors import InvalidInput

API_VERSION = "1.0"
PREFIXES = ("/api/v1/", "/api/v1")
HEADER = b"x-api-version"


class ApiVersionMiddleware:
    """Pure ASGI middleware (streams pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Checks the asked version, then adds the served one to the response."""
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIXES[1] or path.startswith(PREFIXES[0])):
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                message["headers"] = [*headers, (HEADER, API_VERSION.encode())]
            await send(message)

        asked = dict(scope.get("headers") or []).get(HEADER, b"").decode("latin-1").strip()
        if asked and asked.split(".")[0] != API_VERSION.split(".")[0]:
            error = InvalidInput(
                f"API version {asked!r} is not served here; this gateway serves {API_VERSION}",
                details={"field": "X-API-Version", "provided": asked, "supported": [API_VERSION]},
                suggestion=f"send X-API-Version: {API_VERSION}, or leave it out",
            )
            await error_response(Request(scope), error)(scope, receive, send_with_version)
            return
        await self.app(scope, receive, send_with_version)
