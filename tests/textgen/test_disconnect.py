"""Must-show 4: closing the connection after 3 tokens frees the slot within a second."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import active_sequences

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/chat/completions",
            {"messages": [{"role": "user", "content": "Tell a long story."}], "stream": True},
        ),
        ("/api/v1/stream_infer", {"text": "Tell a long story.", "stream": True}),
    ],
)
def test_disconnect_frees_the_slot(llm_mesh: Mesh, inference_stub: Any, path: str, body: dict) -> None:
    assert active_sequences(inference_stub) == 0
    tokens = 0
    with httpx.stream(
        "POST", f"{llm_mesh.base_url}{path}", json={**body, "max_tokens": 400}, timeout=60
    ) as reply:
        for line in reply.iter_lines():
            if line.startswith("data: "):
                tokens += 1
                if tokens == 3:
                    assert active_sequences(inference_stub) == 1
                    break
    closed = time.monotonic()
    while active_sequences(inference_stub) != 0:
        assert time.monotonic() - closed < 1.0, "slot still held 1 s after the client left"
        time.sleep(0.02)
