"""Speech fixtures: the shared mesh with both speech engines loaded once per session."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from meshserve.v1 import speech_pb2_grpc as pb_grpc
from tests.procs import Mesh

SENTENCE = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="session")
def speech_mesh(mesh: Mesh) -> Mesh:
    """The mesh after one synthesis and one transcription went through the gateway (engines loaded)."""
    spoken = httpx.post(f"{mesh.base_url}/synthesize", json={"inputs": SENTENCE}, timeout=120)
    assert spoken.status_code == 200, spoken.text
    wav = base64.b64decode(spoken.json()["result"]["audio_data"])
    heard = httpx.post(f"{mesh.base_url}/transcribe", files={"file": ("warm.wav", wav)}, timeout=120)
    assert heard.status_code == 200, heard.text
    return mesh


@pytest.fixture(scope="session")
def speech_stub(speech_mesh: Mesh) -> Iterator[Any]:
    """A blocking gRPC stub of the mesh's speech service."""
    channel = grpc.insecure_channel(speech_mesh.address("speech"))
    yield pb_grpc.SpeechServiceStub(channel)
    channel.close()


@pytest.fixture(scope="session")
def sentence_wav(speech_mesh: Mesh) -> bytes:
    """One spoken English sentence as a WAV file."""
    reply = httpx.post(f"{speech_mesh.base_url}/synthesize", json={"inputs": SENTENCE}, timeout=60)
    return base64.b64decode(reply.json()["result"]["audio_data"])
