"""000's TextPreprocessor on a machine that cannot reach the Hugging Face hub: a tokenizer that is
not cached fails at once with ModelLoadError naming it and why (transformers alone retried the
connection for about a minute)."""

from __future__ import annotations

import socket
import time

import pytest

import meshserve


def test_an_uncached_tokenizer_fails_at_once_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    from huggingface_hub import constants

    with socket.socket() as sock:  # a loopback port nobody listens on: connections are refused
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{sock.getsockname()[1]}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    started = time.monotonic()
    with pytest.raises(meshserve.ModelLoadError) as raised:
        meshserve.TextPreprocessor(tokenizer="org/not-cached-tokenizer")
    assert time.monotonic() - started < 20
    assert "'org/not-cached-tokenizer'" in raised.value.message
    assert "the Hugging Face hub cannot be reached: ConnectError" in raised.value.message
