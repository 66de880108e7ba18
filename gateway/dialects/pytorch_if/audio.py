"""Document 001 audio: ``POST /synthesize``, ``POST /transcribe``, ``GET /audio/health``,
``GET /tts/health``, ``GET /metrics/tts``.

Every body is 001's JSON success envelope (``success``, ``result``, ``processing_time``,
``model_info``); synthesized audio travels base64-encoded inside ``result``.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, ValidationError

from gateway.deps import Clients
from gateway.dialects.envelope import fields_named
from gateway.errors import validation_error
from gateway.request_id import request_id_of
from gateway.speech import (
    audio_format,
    bytes_chunks,
    decode_base64_audio,
    list_voices,
    speech_status,
    synthesize_whole,
    transcribe,
    upload_chunks,
)
from meshserve.v1 import speech_pb2 as pb
from services.common.errors import InvalidInput
from services.common.messages import message_from

router = APIRouter(tags=["pytorch-if"])


class SynthesizeBody(BaseModel):
    """001's synthesis request: ``model_name`` and ``inputs``, plus voice controls."""

    model_config = ConfigDict(extra="ignore")

    model_name: str = Field("default", description="TTS model or voice; 'default' is the installed voice.")
    inputs: str = Field(..., description="Text to speak.")
    voice: str | None = Field(
        None, description="Voice name or alias (such as alloy); defaults to model_name."
    )
    output_format: str = Field("wav", description="wav, flac, mp3, opus (Ogg), aac or pcm.")
    sample_rate: StrictInt = Field(
        0, description="Output sample rate in Hz (8000-48000); 0 keeps the voice's."
    )
    speed: StrictFloat = Field(1.0, description="Speaking rate, 0.25-4.0.")
    pitch: StrictFloat = Field(0.0, description="Pitch shift in semitones, -12 to 12.")
    volume: StrictFloat = Field(1.0, description="Volume multiplier, 0-4.")
    language: str = Field("", description="Language hint.")


class TranscribeBody(BaseModel):
    """JSON form of ``POST /transcribe``: base64 audio."""

    model_config = ConfigDict(extra="ignore")

    audio: str | None = Field(None, description="Base64 audio in any common format (a data: URL is fine).")
    inputs: str | None = Field(None, description="Same as audio (001's field name).")
    model_name: str = Field("default", description="STT model; 'default' is the installed Whisper.")
    language: str = Field("", description="ISO-639-1 language; detected when empty.")
    task: str = Field("transcribe", description="transcribe or translate (to English).")
    word_timestamps: StrictBool = Field(False, description="Return word timings inside segments.")
    filename: str = Field("", description="Original file name, a hint for decoding.")
    prompt: str = Field("", description="Text that steers the decoder.")
    temperature: StrictFloat = Field(0.0, description="Sampling temperature, 0-1.")


@router.post("/synthesize", operation_id="pytorch_if_synthesize", summary="Text-to-speech synthesis")
async def pytorch_if_synthesize(body: SynthesizeBody, request: Request, clients: Clients) -> dict[str, Any]:
    """Synthesizes the text and returns the audio file base64-encoded in 001's envelope."""
    started = time.perf_counter()
    canonical = pb.SynthesizeRequest(
        text=body.inputs,
        voice=body.voice or "",
        model=body.model_name,
        format=audio_format(body.output_format, "output_format"),
        sample_rate=body.sample_rate,
        speed=body.speed,
        pitch=body.pitch,
        volume=body.volume,
        language=body.language,
        whole_file=True,
    )
    with fields_named({"text": "inputs", "model": "model_name", "format": "output_format"}):
        audio = await synthesize_whole(clients, canonical)
    return {
        "success": True,
        "result": {
            "audio_data": base64.b64encode(audio.audio).decode(),
            "audio_encoding": "base64",
            "audio_format": audio.format,
            "media_type": audio.media_type,
            "sample_rate": audio.sample_rate,
            "duration": round(audio.duration, 3),
            "size_bytes": len(audio.audio),
            "voice": audio.voice,
        },
        "processing_time": round(time.perf_counter() - started, 6),
        "model_info": {
            "model": audio.voice,
            "requested": body.model_name,
            "engine": "piper",
            "device": audio.device,
        },
        "request_id": request_id_of(request),
    }


_TRANSCRIBE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "Audio file."},
                        "model_name": {"type": "string"},
                        "language": {"type": "string"},
                        "task": {"type": "string", "enum": ["transcribe", "translate"]},
                        "word_timestamps": {"type": "boolean"},
                        "prompt": {"type": "string"},
                        "temperature": {"type": "number"},
                    },
                }
            },
            "application/json": {"schema": TranscribeBody.model_json_schema()},
        },
    }
}


@router.post(
    "/transcribe",
    operation_id="pytorch_if_transcribe",
    summary="Speech-to-text transcription",
    openapi_extra=_TRANSCRIBE_BODY,
)
async def pytorch_if_transcribe(request: Request, clients: Clients) -> dict[str, Any]:
    """Transcribes a multipart ``file`` upload or JSON with base64 ``audio``."""
    started = time.perf_counter()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput(
                "file: a multipart file field named 'file' is required", details={"field": "file"}
            )
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        body = _form_body(fields)
        config = _config(body, upload.filename or "")
        reply = await transcribe(clients, config, upload_chunks(upload))
    elif "json" in content_type:
        body = _json_body(await request.body())
        encoded = body.audio if body.audio is not None else body.inputs
        if encoded is None:
            raise InvalidInput(
                "audio: base64 audio is required (field 'audio' or 'inputs')", details={"field": "audio"}
            )
        data = decode_base64_audio(encoded, "audio" if body.audio is not None else "inputs")
        reply = await transcribe(clients, _config(body, body.filename), bytes_chunks(data))
    else:
        raise InvalidInput(
            f"unsupported Content-Type {content_type or '(none)'!r}: send multipart/form-data with a 'file' "
            "or application/json with base64 'audio'",
            details={"field": "Content-Type"},
        )
    return {
        "success": True,
        "result": transcript_json(reply),
        "processing_time": round(time.perf_counter() - started, 6),
        "model_info": {"model": reply.model, "engine": "faster-whisper", "device": reply.device},
        "request_id": request_id_of(request),
    }


def _json_body(raw: bytes) -> TranscribeBody:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"malformed JSON body: {exc}",
            details={"position": getattr(exc, "pos", "")},
            suggestion="send a valid JSON document with Content-Type: application/json",
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput("the JSON body must be an object", details={"field": "body"})
    try:
        return TranscribeBody.model_validate(data)
    except ValidationError as exc:
        raise validation_error(RequestValidationError(exc.errors())) from None


def _form_body(fields: dict[str, str]) -> TranscribeBody:
    data: dict[str, Any] = {k: v for k, v in fields.items() if k in TranscribeBody.model_fields}
    if "word_timestamps" in data:
        data["word_timestamps"] = data["word_timestamps"].lower() in ("1", "true", "yes", "on")
    try:
        # Form fields arrive as strings: lax here overrides the JSON body's strict types.
        return TranscribeBody.model_validate(data, strict=False)
    except ValidationError as exc:
        raise validation_error(RequestValidationError(exc.errors())) from None


def _config(body: TranscribeBody, filename: str) -> pb.TranscribeConfig:
    return message_from(pb.TranscribeConfig, body, model=body.model_name, filename=filename)


def transcript_json(reply: pb.TranscribeResponse) -> dict[str, Any]:
    """A transcription as 001's ``result``."""
    return {
        "text": reply.text,
        "language": reply.language,
        "language_probability": round(reply.language_probability, 4),
        "duration": round(reply.duration_seconds, 3),
        "task": reply.task,
        "segments": [
            {
                "id": s.id,
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text,
                "avg_logprob": round(s.avg_logprob, 4),
                "no_speech_prob": round(s.no_speech_prob, 4),
                **(
                    {
                        "words": [
                            {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
                            for w in s.words
                        ]
                    }
                    if s.words
                    else {}
                ),
            }
            for s in reply.segments
        ],
    }


def _voice_json(voice: pb.Voice) -> dict[str, Any]:
    return {
        "name": voice.name,
        "kind": voice.kind,
        "engine": voice.engine,
        "languages": list(voice.languages),
        "sample_rate": voice.sample_rate,
        "available": voice.available,
        "unavailable_reason": voice.unavailable_reason or None,
        "aliases": list(voice.aliases),
    }


def _engine_state(ready: bool, error: str) -> str:
    return "ready" if ready else ("failed" if error else "loading")


@router.get("/audio/health", operation_id="pytorch_if_audio_health", summary="Audio processing health")
async def pytorch_if_audio_health(clients: Clients) -> dict[str, Any]:
    """TTS and STT engines, output codecs that work here, input containers, limits."""
    status = await speech_status(clients)
    voices = await list_voices(clients)
    healthy = status.tts_ready and status.stt_ready
    return {
        "success": True,
        "status": "healthy"
        if healthy
        else ("unhealthy" if status.tts_error or status.stt_error else "loading"),
        "tts": {
            "status": _engine_state(status.tts_ready, status.tts_error),
            "engine": "piper",
            "default_voice": status.default_voice,
            "error": status.tts_error or None,
        },
        "stt": {
            "status": _engine_state(status.stt_ready, status.stt_error),
            "engine": "faster-whisper",
            "default_model": status.default_stt_model,
            "error": status.stt_error or None,
        },
        "device": status.device,
        "output_formats": list(status.output_formats),
        "unavailable_output_formats": dict(status.unavailable_output_formats),
        "input_formats": list(status.input_formats),
        "limits": dict(status.limits),
        "models": [_voice_json(v) for v in voices],
    }


@router.get("/tts/health", operation_id="pytorch_if_tts_health", summary="TTS service health check")
async def pytorch_if_tts_health(clients: Clients) -> dict[str, Any]:
    """Whether text-to-speech can answer now, with its voices."""
    status = await speech_status(clients)
    voices = [v for v in await list_voices(clients) if v.kind == "tts"]
    return {
        "success": True,
        "status": "healthy" if status.tts_ready else ("unhealthy" if status.tts_error else "loading"),
        "tts_ready": status.tts_ready,
        "engine": "piper",
        "device": status.device,
        "default_voice": status.default_voice,
        "error": status.tts_error or None,
        "output_formats": list(status.output_formats),
        "available_models": [v.name for v in voices if v.available],
        "downloadable_models": [v.name for v in voices if not v.available],
        "voices": [_voice_json(v) for v in voices],
    }


@router.get("/metrics/tts", operation_id="pytorch_if_metrics_tts", summary="TTS-specific metrics")
async def pytorch_if_metrics_tts(clients: Clients) -> dict[str, Any]:
    """Counters of the speech service since it started."""
    s = await speech_status(clients)
    return {
        "success": True,
        "metrics": {
            "syntheses": s.syntheses,
            "synthesized_characters": s.synthesized_characters,
            "synthesized_audio_seconds": round(s.synthesized_seconds, 3),
            "tts_real_time_factor": round(s.tts_real_time_factor, 4),
            "mean_time_to_first_audio_seconds": round(s.mean_first_audio_seconds, 4),
            "transcriptions": s.transcriptions,
            "transcribed_audio_seconds": round(s.transcribed_seconds, 3),
            "stt_real_time_factor": round(s.stt_real_time_factor, 4),
            "in_flight": s.in_flight,
            "failures": dict(s.failures),
        },
        "tts_ready": s.tts_ready,
        "stt_ready": s.stt_ready,
        "device": s.device,
    }
