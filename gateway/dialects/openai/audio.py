"""OpenAI audio: ``POST /v1/audio/speech`` (binary audio, streamed), ``POST /v1/audio/transcriptions``
and ``POST /v1/audio/translations`` (multipart; ``json``, ``text``, ``verbose_json``, ``srt`` and
``vtt`` responses)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictFloat

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.envelope import fields_named
from gateway.request_id import request_id_of
from gateway.speech import audio_format, audio_stream_response, open_synthesis, transcribe, upload_chunks
from meshserve.v1 import speech_pb2 as pb
from services.common.errors import InvalidInput

router = dialect_router("openai", "openai")

#: OpenAI documents ``pcm`` as raw 16-bit little-endian samples at 24 kHz.
PCM_RATE = 24000
TRANSCRIPTION_FORMATS = ("json", "text", "verbose_json", "srt", "vtt")


class VoiceObject(BaseModel):
    """A custom voice reference ``{"id": ...}``."""

    id: str


class SpeechRequest(BaseModel):
    """Body of ``POST /v1/audio/speech``."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("tts-1", description="tts-1, tts-1-hd, gpt-4o-mini-tts or an installed voice name.")
    input: str = Field(..., description="Text to speak.")
    voice: str | VoiceObject = Field(
        "alloy", description="OpenAI voice (alloy, echo…) or an installed voice."
    )
    response_format: str = Field("mp3", description="mp3, opus, aac, flac, wav or pcm (24 kHz s16le).")
    speed: StrictFloat = Field(1.0, description="0.25 to 4.0.")
    instructions: str | None = Field(None, description="Accepted; Piper voices have no instruction control.")
    stream_format: Literal["audio", "sse"] = Field("audio", description="Only 'audio' is served.")


@router.post(
    "/v1/audio/speech",
    summary="Create speech",
    response_class=Response,
    responses={
        200: {
            "content": {
                "audio/mpeg": {},
                "audio/wav": {},
                "audio/ogg": {},
                "audio/flac": {},
                "audio/aac": {},
                "audio/pcm": {},
            }
        }
    },
)
async def create_speech(body: SpeechRequest, request: Request, clients: Clients) -> Response:
    """Streams the audio file with chunked transfer, a piece per sentence."""
    if body.stream_format == "sse":
        raise InvalidInput(
            "stream_format 'sse' is not supported; use 'audio'",
            details={"field": "stream_format"},
            suggestion="omit stream_format: audio is streamed with chunked transfer",
        )
    voice = body.voice.id if isinstance(body.voice, VoiceObject) else body.voice
    fmt = body.response_format.lower()
    canonical = pb.SynthesizeRequest(
        text=body.input,
        voice=voice,
        model=body.model,
        format=audio_format(fmt, "response_format"),
        sample_rate=PCM_RATE if fmt == "pcm" else 0,
        speed=body.speed,
    )
    with fields_named({"text": "input", "format": "response_format"}):
        stream = await open_synthesis(clients, canonical)
    return audio_stream_response(stream, request_id_of(request))


@router.post("/v1/audio/transcriptions", summary="Create transcription")
async def create_transcription(
    request: Request,
    clients: Clients,
    file: Annotated[UploadFile, File(description="Audio in any common format.")],
    model: Annotated[str, Form(description="whisper-1 or an installed STT model.")] = "whisper-1",
    language: Annotated[str, Form(description="ISO-639-1 language of the audio.")] = "",
    prompt: Annotated[str, Form(description="Text that steers the decoder.")] = "",
    response_format: Annotated[str, Form(description="json, text, verbose_json, srt or vtt.")] = "json",
    temperature: Annotated[float, Form(description="0 to 1.")] = 0.0,
    timestamp_granularities: Annotated[
        list[str] | None, Form(alias="timestamp_granularities[]", description="word and/or segment.")
    ] = None,
) -> Response:
    """Transcribes the uploaded audio into the requested format."""
    fmt = _checked_format(response_format)
    granularities = set(timestamp_granularities or ())
    unknown = granularities - {"word", "segment"}
    if unknown:
        raise InvalidInput(
            f"unknown timestamp_granularities {sorted(unknown)}; use 'word' and/or 'segment'",
            details={"field": "timestamp_granularities"},
        )
    if "word" in granularities and fmt != "verbose_json":
        raise InvalidInput(
            "timestamp_granularities 'word' needs response_format 'verbose_json'",
            details={"field": "timestamp_granularities"},
        )
    config = pb.TranscribeConfig(
        model=model,
        language=language,
        task="transcribe",
        word_timestamps="word" in granularities,
        filename=file.filename or "",
        prompt=prompt,
        temperature=temperature,
    )
    reply = await transcribe(clients, config, upload_chunks(file))
    return _rendered(reply, fmt, granularities, request_id_of(request))


@router.post("/v1/audio/translations", summary="Create translation")
async def create_translation(
    request: Request,
    clients: Clients,
    file: Annotated[UploadFile, File(description="Speech in any language and common format.")],
    model: Annotated[str, Form(description="whisper-1 or an installed STT model.")] = "whisper-1",
    prompt: Annotated[str, Form(description="English text that steers the decoder.")] = "",
    response_format: Annotated[str, Form(description="json, text, verbose_json, srt or vtt.")] = "json",
    temperature: Annotated[float, Form(description="0 to 1.")] = 0.0,
) -> Response:
    """Translates the uploaded speech into English text (Whisper's translate task), in the format."""
    fmt = _checked_format(response_format)
    config = pb.TranscribeConfig(
        model=model, task="translate", filename=file.filename or "", prompt=prompt, temperature=temperature
    )
    reply = await transcribe(clients, config, upload_chunks(file))
    return _rendered(reply, fmt, set(), request_id_of(request))


def _checked_format(response_format: str) -> str:
    fmt = response_format.lower()
    if fmt not in TRANSCRIPTION_FORMATS:
        raise InvalidInput(
            f"unsupported response_format {response_format!r}; use one of {', '.join(TRANSCRIPTION_FORMATS)}",
            details={"field": "response_format"},
        )
    return fmt


def _rendered(reply: pb.TranscribeResponse, fmt: str, granularities: set[str], request_id: str) -> Response:
    """A transcription or translation in one of OpenAI's response formats."""
    headers = {"X-Request-ID": request_id}
    if fmt == "text":
        return PlainTextResponse(reply.text + "\n", headers=headers)
    if fmt == "srt":
        return PlainTextResponse(srt(reply), headers=headers)
    if fmt == "vtt":
        return PlainTextResponse(vtt(reply), media_type="text/vtt", headers=headers)
    if fmt == "verbose_json":
        return _json(verbose_json(reply, granularities), headers)
    return _json({"text": reply.text, "usage": _usage(reply)}, headers)


def _json(body: dict[str, Any], headers: dict[str, str]) -> Response:
    return JSONResponse(body, headers=headers)


def _usage(reply: pb.TranscribeResponse) -> dict[str, Any]:
    return {"type": "duration", "seconds": math.ceil(reply.duration_seconds)}


def verbose_json(reply: pb.TranscribeResponse, granularities: set[str]) -> dict[str, Any]:
    """OpenAI's verbose transcription: language name, duration, segments and, when asked, words."""
    body: dict[str, Any] = {
        "task": reply.task or "transcribe",
        "language": reply.language_name or reply.language,
        "duration": round(reply.duration_seconds, 3),
        "text": reply.text,
    }
    if "segment" in granularities or not granularities:
        body["segments"] = [
            {
                "id": s.id,
                "seek": s.seek,
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text,
                "tokens": list(s.tokens),
                "temperature": s.temperature,
                "avg_logprob": s.avg_logprob,
                "compression_ratio": s.compression_ratio,
                "no_speech_prob": s.no_speech_prob,
            }
            for s in reply.segments
        ]
    if "word" in granularities:
        body["words"] = [
            {"word": w.word.strip(), "start": round(w.start, 3), "end": round(w.end, 3)}
            for s in reply.segments
            for w in s.words
        ]
    body["usage"] = _usage(reply)
    return body


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def srt(reply: pb.TranscribeResponse) -> str:
    """SubRip subtitles, one cue per segment."""
    cues = [
        f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{s.text.strip()}\n"
        for i, s in enumerate(reply.segments, start=1)
    ]
    return "\n".join(cues)


def vtt(reply: pb.TranscribeResponse) -> str:
    """WebVTT subtitles, one cue per segment."""
    cues = [
        f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n{s.text.strip()}\n" for s in reply.segments
    ]
    return "WEBVTT\n\n" + "\n".join(cues)
