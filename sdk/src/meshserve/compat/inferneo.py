"""Document 002's client: ``from meshserve.compat.inferneo import InferneoClient``.

``InferneoError`` (``.message``), ``InferneoAPIError`` (``.message``, ``.status_code``) and
``InferneoTimeoutError`` are the SDK's MeshserveError, APIError and TimeoutError."""

from __future__ import annotations

from meshserve.compat import AsyncCompatClient, CompatClient
from meshserve.errors import APIError as InferneoAPIError
from meshserve.errors import MeshserveError as InferneoError
from meshserve.errors import TimeoutError as InferneoTimeoutError


class InferneoClient(CompatClient):
    """002's ``InferneoClient(base_url, api_key, timeout, max_retries, headers)``."""


class AsyncInferneoClient(AsyncCompatClient):
    """002's ``AsyncInferneoClient``: the same calls as coroutines."""


__all__ = [
    "AsyncInferneoClient",
    "InferneoAPIError",
    "InferneoClient",
    "InferneoError",
    "InferneoTimeoutError",
]
