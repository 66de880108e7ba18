"""The plugin routes at the edge: 004 §2.3 roles (managing plugins is administration, listing them is
monitoring) and 004 §9.1's plugin rate limit, as the gateway's one table of each decides them."""

from __future__ import annotations

import pytest

from gateway.security.permissions import Access, required_access
from gateway.security.ratelimit import buckets_for


@pytest.mark.parametrize(
    ("method", "path", "access"),
    [
        ("GET", "/api/v1/plugins", Access.READ),
        ("POST", "/api/v1/plugins/response_filter/load", Access.ADMIN),
        ("DELETE", "/api/v1/plugins/response_filter/unload", Access.ADMIN),
        ("PUT", "/api/v1/plugins/response_filter/config", Access.ADMIN),
    ],
)
def test_plugin_routes_need_004_roles(method: str, path: str, access: Access) -> None:
    assert required_access(method, path) is access


@pytest.mark.parametrize("path", ["/api/v1/plugins", "/api/v1/plugins/prompt_guard/load"])
def test_plugin_routes_count_against_004_plugin_limits(path: str) -> None:
    signed_in = {b.name: b.limit for b in buckets_for("free", True, path, {"free": 10_000})}
    anonymous = {b.name: b.limit for b in buckets_for("free", False, path, {"free": 10_000})}
    assert signed_in["plugins"] == 500 and anonymous["plugins"] == 50
