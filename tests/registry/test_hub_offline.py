"""Hugging Face imports on a machine that cannot reach the hub fail at once with
MODEL_DOWNLOAD_FAILED (huggingface_hub alone would retry the connection for about 25 s)."""

from __future__ import annotations

import socket
import time

import pytest

from services.common.errors import ModelDownloadFailed
from services.registry.imports import hub_file, unreachable


def closed_port_url() -> str:
    """A loopback URL nobody listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_an_unreachable_hub_fails_the_import_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "ENDPOINT", closed_port_url())
    started = time.monotonic()
    with pytest.raises(ModelDownloadFailed) as raised:
        hub_file("org/model", "", timeout=30)
    assert time.monotonic() - started < 5
    assert "could not be reached for 'org/model'" in raised.value.message
    assert raised.value.details == {"source": "huggingface:org/model", "revision": "main"}


def test_unreachable_says_why_or_none() -> None:
    assert "ConnectError" in (unreachable(closed_port_url(), 5) or "")
