"""Document 002's client: ``from meshserve.compat.inferneo import InferneoClient``."""

from __future__ import annotations

from meshserve.client import Client
from meshserve.errors import APIError as InferneoAPIError
from meshserve.errors import MeshserveError as InferneoError
from meshserve.errors import TimeoutError as InferneoTimeoutError

InferneoClient = Client

__all__ = ["InferneoAPIError", "InferneoClient", "InferneoError", "InferneoTimeoutError"]
