"""Must-show 3: bad input gets a clear error in each surface's envelope; silence is not an error."""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from tests.procs import Mesh
from tests.speech.audio_files import PNG_BYTES, corrupted_flac, long_wav, silence_wav, truncated_wav

pytestmark = pytest.mark.slow

TOO_LONG_TEXT = "word " * 820 + "end"  # 4103 characters, past the default limit of 4096


@pytest.fixture(scope="module")
def http(speech_mesh: Mesh) -> httpx.Client:
    with httpx.Client(base_url=speech_mesh.base_url, timeout=120) as client:
        yield client


def assert_001_error(reply: httpx.Response, status: int, code: str, *needles: str) -> None:
    """001's envelope with the status, reason code and words a reader needs."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert body["success"] is False and body["code"] == code and reply.headers["x-request-id"]
    for needle in needles:
        assert needle in body["error"], body


def assert_openai_error(reply: httpx.Response, status: int, *needles: str) -> None:
    """OpenAI's envelope with the status and the words a reader needs."""
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["code"]
    for needle in needles:
        assert needle in error["message"], error


# ---- text to speech ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "field", "needles"),
    [
        ({"inputs": ""}, "inputs", ("empty",)),
        ({"inputs": "   \n "}, "inputs", ("empty",)),
        ({"inputs": TOO_LONG_TEXT}, "inputs", ("4103 characters", "limit is 4096")),
        ({"inputs": "Hello.", "output_format": "xyz"}, "output_format", ("unsupported audio format 'xyz'",)),
        ({"inputs": "Hello.", "speed": 10}, "speed", ("speed must be between 0.25 and 4",)),
        ({"inputs": "Hello.", "pitch": 30}, "pitch", ("pitch must be between -12 and 12",)),
        (
            {"inputs": "Hello.", "sample_rate": 1000},
            "sample_rate",
            ("sample_rate must be between 8000 and 48000",),
        ),
        ({"inputs": "Bonjour.", "language": "fr"}, "language", ("speaks en, not 'fr'",)),
    ],
)
def test_synthesize_refuses_bad_input(
    http: httpx.Client, payload: dict, field: str, needles: tuple[str, ...]
) -> None:
    """The error names the field as 001's body spells it (``inputs``, not the canonical ``text``)."""
    reply = http.post("/synthesize", json=payload)
    assert_001_error(reply, 400, "INVALID_INPUT", *needles)
    assert f"field={field}" in reply.json()["detail"].split("; "), reply.text


@pytest.mark.parametrize(
    ("payload", "param", "needles"),
    [
        ({"input": ""}, "input", ("empty",)),
        ({"input": TOO_LONG_TEXT}, "input", ("limit is 4096",)),
        (
            {"input": "Hello.", "response_format": "xyz"},
            "response_format",
            ("unsupported audio format 'xyz'",),
        ),
        ({"input": "Hello.", "speed": 5}, "speed", ("speed must be between 0.25 and 4",)),
        (
            {"input": "Hello.", "stream_format": "sse"},
            "stream_format",
            ("stream_format 'sse' is not supported",),
        ),
    ],
)
def test_speech_refuses_bad_input(
    http: httpx.Client, payload: dict, param: str, needles: tuple[str, ...]
) -> None:
    """``param`` is OpenAI's field name (``input``, not the canonical ``text``)."""
    body = {"model": "tts-1", "voice": "alloy", **payload}
    reply = http.post("/v1/audio/speech", json=body)
    assert_openai_error(reply, 400, *needles)
    assert reply.json()["error"]["param"] == param


def test_downloadable_model_fails_fast_with_a_clear_error(http: httpx.Client) -> None:
    started = time.perf_counter()
    reply = http.post("/synthesize", json={"model_name": "speecht5_tts", "inputs": "Hello, this is a test."})
    assert time.perf_counter() - started < 2.0, "must not try the hub"
    assert_001_error(
        reply, 409, "MODEL_NOT_LOADED", "speecht5_tts", "not available offline", "en_US-joe-medium"
    )


def test_unknown_model_is_not_found(http: httpx.Client) -> None:
    reply = http.post("/synthesize", json={"model_name": "no-such-tts", "inputs": "Hello."})
    assert_001_error(reply, 404, "MODEL_NOT_FOUND", "unknown voice 'no-such-tts'", "en_US-joe-medium")


# ---- speech to text ----------------------------------------------------------------------------

BAD_AUDIO = [
    pytest.param(b"", ("empty",), id="empty"),
    pytest.param(truncated_wav(), ("no decodable samples",), id="truncated-wav"),
    pytest.param(corrupted_flac(), ("no decodable samples",), id="corrupted-flac"),
    pytest.param(PNG_BYTES, ("no audio stream",), id="png-image"),
    pytest.param(b"just some text, not audio\n" * 40, ("not audio",), id="text-file"),
]


@pytest.mark.parametrize(("data", "needles"), BAD_AUDIO)
def test_transcribe_refuses_bad_audio(http: httpx.Client, data: bytes, needles: tuple[str, ...]) -> None:
    reply = http.post("/transcribe", files={"file": ("upload.bin", data)})
    assert_001_error(reply, 400, "INVALID_INPUT", *needles)


@pytest.mark.parametrize(("data", "needles"), BAD_AUDIO)
def test_transcriptions_refuse_bad_audio(http: httpx.Client, data: bytes, needles: tuple[str, ...]) -> None:
    reply = http.post(
        "/v1/audio/transcriptions", files={"file": ("upload.bin", data)}, data={"model": "whisper-1"}
    )
    assert_openai_error(reply, 400, *needles)


def test_audio_longer_than_the_limit_names_the_limit(http: httpx.Client) -> None:
    reply = http.post("/transcribe", files={"file": ("long.wav", long_wav(601))})
    assert_001_error(reply, 400, "PAYLOAD_TOO_LARGE", "longer than the limit of 600 seconds")
    reply = http.post("/v1/audio/transcriptions", files={"file": ("long.wav", long_wav(601))})
    assert_openai_error(reply, 400, "longer than the limit of 600 seconds")


def test_transcribe_request_shape_errors(http: httpx.Client) -> None:
    assert_001_error(
        http.post("/transcribe", json={"audio": "%%% not base64"}), 400, "INVALID_INPUT", "base64"
    )
    assert_001_error(http.post("/transcribe", json={"language": "en"}), 400, "INVALID_INPUT", "audio")
    malformed = http.post(
        "/transcribe", content=b'{"audio": [1,', headers={"content-type": "application/json"}
    )
    assert_001_error(malformed, 400, "INVALID_INPUT", "malformed JSON")
    assert_001_error(http.post("/transcribe", json={"audio": 5}), 400, "INVALID_INPUT", "audio")
    assert_001_error(http.post("/transcribe", data={"model_name": "default"}), 400, "INVALID_INPUT", "file")
    assert_001_error(
        http.post("/transcribe", content=b"abc", headers={"content-type": "text/plain"}),
        400,
        "INVALID_INPUT",
        "Content-Type",
    )
    wav = silence_wav(1)
    reply = http.post("/transcribe", files={"file": ("s.wav", wav)}, data={"language": "klingon"})
    assert_001_error(reply, 400, "INVALID_INPUT", "unsupported language")
    reply = http.post(
        "/v1/audio/transcriptions", files={"file": ("s.wav", wav)}, data={"response_format": "xml"}
    )
    assert_openai_error(reply, 400, "unsupported response_format 'xml'")
    reply = http.post(
        "/v1/audio/transcriptions",
        files={"file": ("s.wav", wav)},
        data={"response_format": "json", "timestamp_granularities[]": "word"},
    )
    assert_openai_error(reply, 400, "verbose_json")
    assert_openai_error(http.post("/v1/audio/transcriptions", data={"model": "whisper-1"}), 400, "file")


def test_silence_transcribes_to_empty_text(http: httpx.Client) -> None:
    wav = silence_wav(3)
    reply = http.post("/transcribe", json={"audio": base64.b64encode(wav).decode()})
    assert reply.status_code == 200, reply.text
    result = reply.json()["result"]
    assert result["text"] == "" and result["segments"] == [] and abs(result["duration"] - 3.0) < 0.01
    reply = http.post(
        "/v1/audio/transcriptions", files={"file": ("quiet.wav", wav)}, data={"response_format": "text"}
    )
    assert reply.status_code == 200 and reply.text.strip() == ""
