"""Speech fixtures: the shared mesh with both speech engines loaded once per session."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import soundfile

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


#: :data:`SENTENCE` spoken by the bundled Piper voice (``POST /synthesize``, 22.05 kHz mono).
SENTENCE_RECORDING = Path(__file__).parent / "data" / "sentence.flac"


@pytest.fixture(scope="session")
def sentence_wav() -> bytes:
    """:data:`SENTENCE` spoken, as a WAV file: one fixed recording, so tests that check words hear
    the same audio on every run.

    A fresh synthesis differs every time (Piper draws phoneme durations at random) and Whisper
    tiny's int8 arithmetic differs by CPU: a CI machine once heard "jumped" in one. This recording
    was the one of 16 syntheses that Whisper heard most surely: every word but the first at
    probability 0.84 or more, as mono 22.05 kHz, stereo 44.1 kHz and 16 kHz, with and without a
    language hint. Fresh syntheses are transcribed by ``test_roundtrip.py`` and the lossy formats'
    tests.
    """
    samples, rate = soundfile.read(SENTENCE_RECORDING, dtype="int16")
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
