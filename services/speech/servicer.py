"""gRPC face of the speech service: protobuf in, the core's calls, protobuf out."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from meshserve.v1 import speech_pb2 as pb
from meshserve.v1 import speech_pb2_grpc as pb_grpc
from services.common.errors import InvalidInput, MeshError
from services.common.messages import message_from, record_from
from services.common.metering import Meter
from services.common.streams import drain
from services.speech.codecs import input_formats, probe_formats
from services.speech.core import SpeechCore, SynthesisJob, TranscriptionJob, TranscriptionResult
from services.speech.stt import language_name
from services.speech.voices import CATALOGUE

FORMAT_NAMES = {
    pb.AUDIO_FORMAT_UNSPECIFIED: "wav",
    pb.AUDIO_FORMAT_WAV: "wav",
    pb.AUDIO_FORMAT_FLAC: "flac",
    pb.AUDIO_FORMAT_OPUS: "opus",
    pb.AUDIO_FORMAT_MP3: "mp3",
    pb.AUDIO_FORMAT_PCM: "pcm",
    pb.AUDIO_FORMAT_AAC: "aac",
}


class SpeechServicer(pb_grpc.SpeechServiceServicer):
    """TTS and STT."""

    def __init__(self, core: SpeechCore, meter: Meter | None = None) -> None:
        self.core = core
        self.meter = meter

    def _meter(self, model: str, started: float, units: float, unit: str, outcome: str) -> None:
        """One request's record: characters synthesised, or seconds of audio transcribed."""
        if self.meter is not None:
            self.meter.record_units(model=model, units=units, unit=unit, started=started, outcome=outcome)

    async def Synthesize(
        self, request: pb.SynthesizeRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.SynthesizeResponse]:
        """Streams encoded audio as sentences are synthesised."""
        fmt = FORMAT_NAMES.get(request.format)
        if fmt is None:
            raise InvalidInput(
                f"unknown audio format enum value {request.format}", details={"field": "format"}
            )
        job = record_from(SynthesisJob, request, format=fmt)
        started, outcome = time.perf_counter(), "cancelled"
        try:
            async with contextlib.aclosing(self.core.synthesize(job)) as pieces:
                async for piece in pieces:
                    yield self._synthesized(piece)
            outcome = "ok"
        except MeshError:
            outcome = "error"
            raise
        finally:
            self._meter(request.model or request.voice, started, len(request.text), "characters", outcome)

    @staticmethod
    def _synthesized(piece: Any) -> pb.SynthesizeResponse:
        return message_from(
            pb.SynthesizeResponse,
            piece,
            duration_seconds=piece.duration,
            total_duration_seconds=piece.total_duration,
        )

    async def Transcribe(
        self, request_iterator: AsyncIterator[pb.TranscribeRequest], context: grpc.aio.ServicerContext
    ) -> pb.TranscribeResponse:
        """Collects the config and the audio bytes (within the upload limit), then transcribes."""
        config: pb.TranscribeConfig | None = None
        parts: list[bytes] = []
        size = 0
        try:
            async for message in request_iterator:
                which = message.WhichOneof("part")
                if which == "config":
                    if config is not None or parts:
                        raise InvalidInput(
                            "the config must come once, before any audio", details={"field": "config"}
                        )
                    config = message.config
                elif which == "audio":
                    size += len(message.audio)
                    self.core.check_upload(size)
                    parts.append(message.audio)
        except MeshError:
            await drain(
                request_iterator, self.core.settings.max_upload_bytes, lambda message: len(message.audio)
            )
            raise
        config = config or pb.TranscribeConfig()
        job = record_from(TranscriptionJob, config)
        started = time.perf_counter()
        try:
            result = await self.core.transcribe(job, b"".join(parts))
        except MeshError:
            self._meter(config.model, started, 0.0, "audio_seconds", "error")
            raise
        self._meter(result.model, started, result.transcript.duration, "audio_seconds", "ok")
        return transcript_message(result)

    async def ListVoices(
        self, request: pb.ListVoicesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVoicesResponse:
        """Every voice and speech model, with whether it can run here."""
        return pb.ListVoicesResponse(voices=[message_from(pb.Voice, v) for v in CATALOGUE])

    async def GetSpeechStatus(
        self, request: pb.GetSpeechStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSpeechStatusResponse:
        """Engines, codecs, limits and counters."""
        core, stats = self.core, self.core.stats
        ok, failed = probe_formats()
        return pb.GetSpeechStatusResponse(
            tts_ready=core.tts.ready,
            stt_ready=core.stt.ready,
            output_formats=list(ok),
            unavailable_output_formats=failed,
            input_formats=list(input_formats()),
            device=core.stt_device
            if core.stt_device == core.tts_device
            else f"tts:{core.tts_device},stt:{core.stt_device}",
            syntheses=stats.syntheses,
            transcriptions=stats.transcriptions,
            synthesized_seconds=stats.synthesized_seconds,
            transcribed_seconds=stats.transcribed_seconds,
            tts_real_time_factor=stats.tts_real_time_factor,
            stt_real_time_factor=stats.stt_real_time_factor,
            limits=core.limits,
            tts_error=core.tts.error,
            stt_error=core.stt.error,
            synthesized_characters=stats.synthesized_characters,
            mean_first_audio_seconds=stats.mean_first_audio_seconds,
            failures=dict(stats.failures),
            in_flight=stats.in_flight,
            default_voice=core.settings.default_voice,
            default_stt_model=core.settings.default_stt_model,
        )


def transcript_message(result: TranscriptionResult) -> pb.TranscribeResponse:
    """The protobuf of a transcription."""
    t = result.transcript
    return pb.TranscribeResponse(
        text=t.text,
        language=t.language,
        language_name=language_name(t.language) if t.language else "",
        language_probability=t.language_probability,
        duration_seconds=t.duration,
        model=result.model,
        processing_seconds=result.seconds,
        task=result.task,
        device=result.device,
        segments=[
            message_from(pb.Segment, s, words=[message_from(pb.Word, w) for w in s.words]) for s in t.segments
        ],
    )
