"""Must-show 2: the official ``openai`` package's audio calls against the gateway's /v1."""

from __future__ import annotations

import io
import re

import av
import openai
import pytest

from tests.procs import Mesh
from tests.speech.conftest import SENTENCE
from tests.speech.wer import heard_back, words

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(speech_mesh: Mesh) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{speech_mesh.base_url}/v1", api_key="any", max_retries=0, timeout=120)


def decoded_seconds(data: bytes) -> tuple[str, float]:
    """Container name and duration of encoded audio, by decoding it."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return container.format.name, samples / stream.codec_context.sample_rate


@pytest.mark.parametrize(
    ("voice", "fmt", "container"), [("alloy", "mp3", "mp3"), ("en_US-joe-medium", "opus", "ogg")]
)
def test_speech_create_returns_audio_that_transcribes_back(
    client: openai.OpenAI, voice: str, fmt: str, container: str
) -> None:
    speech = client.audio.speech.create(model="tts-1", voice=voice, input=SENTENCE, response_format=fmt)
    audio = speech.read()
    assert speech.response.headers["content-type"].startswith("audio/")
    name, seconds = decoded_seconds(audio)
    assert name == container and 1.5 < seconds < 6
    text = client.audio.transcriptions.create(model="whisper-1", file=(f"speech.{fmt}", audio))
    assert heard_back(SENTENCE, text.text), text.text


def test_speech_streaming_response_and_speed(client: openai.OpenAI) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="nova", input=SENTENCE, response_format="wav"
    ) as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        normal = b"".join(response.iter_bytes())
    fast = client.audio.speech.create(
        model="tts-1", voice="nova", input=SENTENCE, response_format="wav", speed=2.0
    )
    normal_seconds = decoded_seconds(normal)[1]
    fast_seconds = decoded_seconds(fast.read())[1]
    assert 0.35 < fast_seconds / normal_seconds < 0.65


def test_pcm_is_raw_24khz_16bit(client: openai.OpenAI) -> None:
    def speak(response_format: str) -> bytes:
        return client.audio.speech.create(
            model="tts-1", voice="alloy", input=SENTENCE, response_format=response_format
        ).read()

    # Piper draws phoneme durations at random (1.8 % standard deviation for this sentence), so
    # means of five are compared: their difference has a 1.1 % deviation, well inside 4.5 %, while
    # PCM at Piper's own 22.05 kHz would be 8.8 % off; 24 kHz lines up.
    pcms = [speak("pcm") for _ in range(5)]
    wavs = [speak("wav") for _ in range(5)]
    assert all(not pcm.startswith(b"RIFF") and len(pcm) % 2 == 0 for pcm in pcms)
    pcm_seconds = sum(len(pcm) / 2 / 24000 for pcm in pcms) / len(pcms)
    wav_seconds = sum(decoded_seconds(wav)[1] for wav in wavs) / len(wavs)
    assert abs(pcm_seconds - wav_seconds) / wav_seconds < 0.045


def test_transcriptions_verbose_json_with_words_and_segments(
    client: openai.OpenAI, sentence_wav: bytes
) -> None:
    verbose = client.audio.transcriptions.create(
        model="whisper-1",
        file=("sentence.wav", sentence_wav),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
        language="en",
    )
    assert verbose.language == "english" and words(verbose.text) == words(SENTENCE)
    assert 1.5 < verbose.duration < 6
    assert (
        verbose.segments
        and verbose.segments[0].start == 0.0
        and verbose.segments[-1].end <= verbose.duration + 0.5
    )
    assert [w.word.lower().strip(".,") for w in verbose.words] == words(SENTENCE)
    starts = [w.start for w in verbose.words]
    assert starts == sorted(starts) and all(w.end >= w.start for w in verbose.words)


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_transcriptions_text_formats(client: openai.OpenAI, sentence_wav: bytes, fmt: str) -> None:
    out = client.audio.transcriptions.create(
        model="whisper-1", file=("s.wav", sentence_wav), response_format=fmt
    )
    assert isinstance(out, str) and "brown fox" in out.lower()
    if fmt == "srt":
        assert re.match(r"1\n00:00:00,000 --> 00:00:0\d,\d{3}\n", out)
    if fmt == "vtt":
        assert re.match(r"WEBVTT\n\n00:00:00\.000 --> 00:00:0\d\.\d{3}\n", out)


def test_translations_run_whisper_s_translate_task(client: openai.OpenAI, sentence_wav: bytes) -> None:
    # English speech translated to English is the sentence again; what differs from a
    # transcription is the task Whisper ran, which verbose_json reports.
    text = client.audio.translations.create(model="whisper-1", file=("s.wav", sentence_wav))
    assert heard_back(SENTENCE, text.text), text.text
    verbose = client.audio.translations.create(
        model="whisper-1", file=("s.wav", sentence_wav), response_format="verbose_json"
    )
    assert verbose.task == "translate" and verbose.segments and verbose.duration > 1.5
    subtitles = client.audio.translations.create(
        model="whisper-1", file=("s.wav", sentence_wav), response_format="srt"
    )
    assert isinstance(subtitles, str) and subtitles.startswith("1\n00:00:00,000 --> ")
    with pytest.raises(openai.BadRequestError, match="response_format"):
        client.audio.translations.create(
            model="whisper-1", file=("s.wav", sentence_wav), response_format="xml"
        )


def test_unknown_voice_is_a_not_found_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.audio.speech.create(model="tts-1", voice="no-such-voice", input="Hello.")
    assert "unknown voice" in caught.value.message and "en_US-joe-medium" in caught.value.message
