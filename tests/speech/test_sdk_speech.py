"""The meshserve Python SDK's speech calls against the mesh: ``speak``, ``transcribe`` and
``translate``, in JSON and in a subtitle format."""

from __future__ import annotations

import pytest

from meshserve import Client
from tests.procs import Mesh
from tests.speech.conftest import SENTENCE
from tests.speech.wer import heard_back

pytestmark = pytest.mark.slow


def test_speech_round_trip_through_the_sdk(speech_mesh: Mesh, sentence_wav: bytes) -> None:
    with Client(speech_mesh.base_url) as client:
        spoken = client.speak(SENTENCE)
        assert spoken[:4] == b"RIFF" and len(spoken) > 44
        assert heard_back(SENTENCE, client.transcribe(sentence_wav, filename="s.wav")["text"])
        translated = client.translate(sentence_wav, filename="s.wav", response_format="verbose_json")
        assert translated["task"] == "translate" and heard_back(SENTENCE, translated["text"])
        subtitles = client.translate(sentence_wav, filename="s.wav", response_format="vtt")
        assert subtitles.startswith("WEBVTT\n\n00:00:00.000 --> ")
