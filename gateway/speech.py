"""Speech calls shared by the dialects: a settled synthesis stream, streamed audio responses, and
transcription as a client stream fed from an upload or from decoded base64.

:func:`open_synthesis` waits for the first audio chunk so that validation errors still get a real
HTTP status; after that, audio goes out with chunked transfer as sentences are ready. A client that
disconnects closes the body, which cancels the gRPC call and so stops the synthesis.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile as StarletteUploadFile

from gateway.clients import MeshClients
from gateway.streams import OpenStream
from meshserve.v1 import speech_pb2 as pb
from services.common.clients import call_metadata
from services.common.errors import InvalidInput, MeshError

log = logging.getLogger("meshserve.gateway.speech")

#: Deadline of a synthesis or transcription: long texts and long audio take minutes on CPU.
SPEECH_TIMEOUT_SECONDS = 600.0
#: Bytes per audio message of a transcription stream (DESIGN: ≤ 1 MiB chunks).
CHUNK_BYTES = 1024 * 1024

FORMATS = {
    "wav": pb.AUDIO_FORMAT_WAV,
    "flac": pb.AUDIO_FORMAT_FLAC,
    "opus": pb.AUDIO_FORMAT_OPUS,
    "ogg": pb.AUDIO_FORMAT_OPUS,
    "mp3": pb.AUDIO_FORMAT_MP3,
    "pcm": pb.AUDIO_FORMAT_PCM,
    "aac": pb.AUDIO_FORMAT_AAC,
}


def audio_format(name: str, field: str) -> pb.AudioFormat:
    """The canonical enum of a format name; unknown names are refused with the choices."""
    value = FORMATS.get((name or "").lower())
    if value is None:
        raise InvalidInput(
            f"unsupported audio format {name!r}",
            details={"field": field, "supported": ",".join(sorted(FORMATS))},
            suggestion=f"use one of: {', '.join(sorted(FORMATS))}",
        )
    return value


SynthesisStream = OpenStream[pb.SynthesizeResponse]


async def open_synthesis(clients: MeshClients, request: pb.SynthesizeRequest) -> SynthesisStream:
    """Starts a synthesis and waits for its first chunk (errors raise before any byte is sent)."""
    call, first = await clients.open_stream(
        "speech",
        lambda: clients.speech.Synthesize(request, timeout=SPEECH_TIMEOUT_SECONDS, metadata=call_metadata()),
        "synthesis",
    )
    return OpenStream(call, first, lambda chunk: bool(chunk.final))


@dataclass
class SynthesizedAudio:
    """A whole synthesis."""

    audio: bytes
    sample_rate: int
    duration: float
    voice: str
    media_type: str
    format: str
    device: str


async def synthesize_whole(clients: MeshClients, request: pb.SynthesizeRequest) -> SynthesizedAudio:
    """A synthesis read to its end."""
    stream = await open_synthesis(clients, request)
    parts: list[bytes] = []
    last = stream.first
    async for chunk in stream:
        parts.append(chunk.audio)
        last = chunk
    first = stream.first
    return SynthesizedAudio(
        b"".join(parts),
        first.sample_rate,
        last.total_duration_seconds,
        first.voice,
        first.media_type,
        first.format,
        first.device,
    )


def audio_stream_response(
    stream: SynthesisStream, request_id: str, media_type: str = ""
) -> StreamingResponse:
    """Binary audio sent with chunked transfer as the chunks arrive.

    A failure after the first byte cannot change the status any more: it is logged and the body
    ends early (binary audio has no in-band error frame).
    """

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in stream:
                if chunk.audio:
                    yield chunk.audio
        except MeshError as error:
            log.warning("synthesis failed mid-stream: %s", error.message, extra={"request_id": request_id})
        finally:
            stream.cancel()

    first = stream.first
    headers = {
        "X-Request-ID": request_id,
        "X-Accel-Buffering": "no",
        "X-Audio-Sample-Rate": str(first.sample_rate),
        "X-Voice": first.voice,
    }
    return StreamingResponse(body(), media_type=media_type or first.media_type, headers=headers)


async def upload_chunks(upload: StarletteUploadFile) -> AsyncIterator[bytes]:
    """An uploaded file, a chunk at a time."""
    while data := await upload.read(CHUNK_BYTES):
        yield data


async def bytes_chunks(data: bytes) -> AsyncIterator[bytes]:
    """In-memory audio, a chunk at a time."""
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start : start + CHUNK_BYTES]


def decode_base64_audio(value: str, field: str) -> bytes:
    """Audio sent as base64 (a ``data:`` URL prefix is allowed)."""
    text = value.strip()
    if text.startswith("data:") and "," in text:
        text = text.split(",", 1)[1]
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"{field} is not valid base64",
            details={"field": field},
            suggestion="send the audio file base64-encoded",
        ) from None


async def transcribe(
    clients: MeshClients, config: pb.TranscribeConfig, chunks: AsyncIterator[bytes]
) -> pb.TranscribeResponse:
    """Streams the config, then the audio, to Speech.Transcribe."""

    async def messages() -> AsyncIterator[pb.TranscribeRequest]:
        yield pb.TranscribeRequest(config=config)
        async for data in chunks:
            yield pb.TranscribeRequest(audio=data)

    await clients.connected("speech")
    call = clients.speech.Transcribe(messages(), timeout=SPEECH_TIMEOUT_SECONDS, metadata=call_metadata())
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        raise MeshError.from_rpc_error(error) from None


async def speech_status(clients: MeshClients) -> pb.GetSpeechStatusResponse:
    """Engines, codecs, limits and counters of the speech service."""
    return await clients.call(clients.speech.GetSpeechStatus, pb.GetSpeechStatusRequest(), idempotent=True)


async def list_voices(clients: MeshClients) -> list[pb.Voice]:
    """Every voice and speech model of the catalogue."""
    reply = await clients.call(clients.speech.ListVoices, pb.ListVoicesRequest(), idempotent=True)
    return list(reply.voices)
