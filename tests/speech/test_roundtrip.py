"""Must-show 1: ten varied English sentences, synthesised and transcribed back through the gateway."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.procs import Mesh
from tests.speech.wer import wer

pytestmark = pytest.mark.slow

SENTENCES = [
    "The weather today is sunny with a light breeze from the west.",
    "Could you please send me the report before the meeting starts?",
    "She walked to the library and borrowed three books about history.",
    "Our team finished the project ahead of schedule last week.",
    "Never leave your bicycle unlocked outside the train station!",
    "The doctor said that I should drink more water every day.",
    "Why do birds fly south when the winter comes?",
    "He opened the window to let some fresh air into the room.",
    "Learning a new language takes patience and a lot of practice.",
    "The children played in the garden until the sun went down.",
]
#: Output formats cycled through, so every codec carries some of the round trip.
FORMATS = ["wav", "flac", "mp3", "opus", "aac"]


def test_ten_sentences_round_trip_with_low_word_error_rate(speech_mesh: Mesh) -> None:
    base = speech_mesh.base_url
    heard: list[str] = []
    with httpx.Client(base_url=base, timeout=120) as client:
        for i, sentence in enumerate(SENTENCES):
            fmt = FORMATS[i % len(FORMATS)]
            spoken = client.post(
                "/synthesize", json={"model_name": "default", "inputs": sentence, "output_format": fmt}
            )
            assert spoken.status_code == 200, spoken.text
            result = spoken.json()["result"]
            assert result["audio_format"] == fmt and result["duration"] > 1.0
            audio = base64.b64decode(result["audio_data"])
            # Alternate the two documented ways of sending audio to /transcribe.
            if i % 2:
                reply = client.post(
                    "/transcribe", files={"file": (f"s{i}.{fmt}", audio)}, data={"language": "en"}
                )
            else:
                reply = client.post(
                    "/transcribe", json={"audio": base64.b64encode(audio).decode(), "language": "en"}
                )
            assert reply.status_code == 200, reply.text
            body = reply.json()
            assert body["success"] is True and body["result"]["language"] == "en"
            heard.append(body["result"]["text"])
    rate = wer(SENTENCES, heard)
    print(f"round-trip WER {rate:.3f}")
    assert rate <= 0.10, f"WER {rate:.3f}: {list(zip(SENTENCES, heard, strict=True))}"
