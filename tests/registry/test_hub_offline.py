"""Hugging Face imports on a machine that cannot reach the hub fail at once with
MODEL_DOWNLOAD_FAILED (huggingface_hub alone would retry the connection for about 25 s); a
repository the hub does not have is MODEL_NOT_FOUND."""

from __future__ import annotations

import socket
import time

import pytest

from services.common.errors import ModelDownloadFailed, ModelNotFound
from services.registry.imports import hub_file, unreachable
from tests.hub_stub import EmptyHub


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


def test_a_repository_the_hub_does_not_have_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    hub = EmptyHub()
    try:
        monkeypatch.setattr(constants, "ENDPOINT", hub.url)
        with pytest.raises(ModelNotFound) as raised:
            hub_file("org/missing", "", timeout=30)
    finally:
        hub.close()
    assert (
        raised.value.message
        == "the Hugging Face hub has no repository 'org/missing' (or it is private or gated)"
    )
    assert raised.value.details == {"source": "huggingface:org/missing", "revision": "main"}
