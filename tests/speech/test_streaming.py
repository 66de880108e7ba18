"""Synthesis streams: audio leaves per sentence, before the whole text is done; a client that leaves
stops the synthesis."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from meshserve.v1 import speech_pb2 as pb
from tests.procs import Mesh

pytestmark = pytest.mark.slow

LONG_TEXT = " ".join(
    [
        "Streaming speech lets a listener hear the first words while the rest is still being made.",
        "Each sentence is synthesised on its own and sent as soon as it is ready.",
        "The encoder keeps its state between sentences, so the pieces join into one file.",
        "A long answer from an assistant can start playing almost at once.",
        "Nobody likes to wait for a whole paragraph before hearing anything.",
        "This text has many sentences, so that the difference is easy to measure.",
        "The first piece of audio should arrive long before the last one.",
        "After the final sentence, the stream closes and the file is complete.",
        "Clients may also stop listening early, and the server then stops working.",
        "That frees the engine for the next request in the queue.",
    ]
)


def test_first_audio_arrives_before_synthesis_completes(speech_mesh: Mesh) -> None:
    body = {"model": "tts-1", "voice": "alloy", "input": LONG_TEXT, "response_format": "mp3"}
    arrivals: list[tuple[float, int]] = []
    started = time.perf_counter()
    with httpx.stream("POST", f"{speech_mesh.base_url}/v1/audio/speech", json=body, timeout=120) as reply:
        assert reply.status_code == 200 and reply.headers["content-type"] == "audio/mpeg"
        for chunk in reply.iter_raw():
            arrivals.append((time.perf_counter() - started, len(chunk)))
    first, done = arrivals[0][0], arrivals[-1][0]
    assert len(arrivals) >= 5, arrivals
    assert first < 0.3 * done, f"first audio at {first:.3f}s, all audio at {done:.3f}s"


def test_grpc_stream_sends_a_piece_per_sentence(speech_stub: Any) -> None:
    request = pb.SynthesizeRequest(text=LONG_TEXT, voice="en_US-joe-medium", format=pb.AUDIO_FORMAT_WAV)
    started = time.perf_counter()
    pieces = [(time.perf_counter() - started, r) for r in speech_stub.Synthesize(request, timeout=120)]
    audio = [r for _, r in pieces if not r.final]
    assert len(audio) == 10, "one piece per sentence"
    assert pieces[-1][1].final and pieces[-1][1].total_duration_seconds > 30
    assert pieces[0][0] < 0.3 * pieces[-1][0]
    totals = [r.total_duration_seconds for r in audio]
    assert totals == sorted(totals) and abs(sum(r.duration_seconds for r in audio) - totals[-1]) < 1e-6
    assert audio[0].audio.startswith(b"RIFF") and all(not r.audio.startswith(b"RIFF") for r in audio[1:])


def test_client_that_leaves_stops_the_synthesis(speech_mesh: Mesh, speech_stub: Any) -> None:
    before = speech_stub.GetSpeechStatus(pb.GetSpeechStatusRequest(), timeout=5).syntheses
    body = {"model": "tts-1", "voice": "alloy", "input": LONG_TEXT * 3, "response_format": "wav"}
    with httpx.stream("POST", f"{speech_mesh.base_url}/v1/audio/speech", json=body, timeout=120) as reply:
        next(reply.iter_raw())
    # The gateway cancels the gRPC call; the service stops between sentences and never finishes.
    deadline = time.monotonic() + 10
    while (status := speech_stub.GetSpeechStatus(pb.GetSpeechStatusRequest(), timeout=5)).in_flight:
        assert time.monotonic() < deadline, "synthesis still running after the client left"
        time.sleep(0.05)
    assert status.syntheses == before, "a cancelled synthesis must not run to its end"
