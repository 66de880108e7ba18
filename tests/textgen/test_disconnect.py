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
            {
                "messages": [{"role": "user", "content": "Tell a long story."}],
                "stream": True,
                "max_tokens": 400,
            },
        ),
        ("/api/v1/stream_infer", {"text": "Tell a long story.", "stream": True, "max_tokens": 400}),
        # 003's route to its stream: relayed event by event (the generation is still running when
        # the third token arrives), and leaving the route leaves the target.
        (
            "/api/gateway/route",
            {
                "service": "ai_core",
                "endpoint": "/inference/stream",
                "payload": {
                    "model_id": "default",
                    "prompt": "Tell a long story.",
                    "parameters": {"max_tokens": 400},
                },
            },
        ),
    ],
)
def test_disconnect_frees_the_slot(llm_mesh: Mesh, inference_stub: Any, path: str, body: dict) -> None:
    assert active_sequences(inference_stub) == 0
    tokens = 0
    with httpx.stream("POST", f"{llm_mesh.base_url}{path}", json=body, timeout=60) as reply:
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
