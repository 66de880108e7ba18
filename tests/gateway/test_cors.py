"""CORS: none by default (browsers keep other origins' pages out), and the configured origins only
when ``MESHSERVE_GATEWAY_CORS_ORIGINS`` names them. The gateway in process."""

from __future__ import annotations

import httpx

from gateway.app import create_app
from gateway.settings import GatewaySettings

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}


async def call(settings: GatewaySettings, origin: str) -> tuple[httpx.Response, httpx.Response]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            preflight = await http.options("/v1/chat/completions", headers={"Origin": origin, **PREFLIGHT})
            simple = await http.get("/api/v1/no-such-route", headers={"Origin": origin})
    return preflight, simple


async def test_no_cors_headers_by_default() -> None:
    preflight, simple = await call(GatewaySettings(), "https://app.example")
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_configured_origins_only() -> None:
    settings = GatewaySettings(cors_origins=["https://app.example"])
    preflight, simple = await call(settings, "https://app.example")
    assert (
        preflight.status_code == 200
        and preflight.headers["access-control-allow-origin"] == "https://app.example"
    )
    assert simple.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    other, other_simple = await call(settings, "https://evil.example")
    assert other.status_code == 400 and "access-control-allow-origin" not in other_simple.headers
