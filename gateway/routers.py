"""Every dialect router the gateway serves, in one list (order matters only for identical paths)."""

from __future__ import annotations

from fastapi import APIRouter

ROUTERS: list[APIRouter] = []
