"""gRPC face of the speech service."""

from __future__ import annotations

import grpc

from meshserve.v1 import speech_pb2 as pb
from meshserve.v1 import speech_pb2_grpc as pb_grpc
from services.speech.voices import CATALOGUE


class SpeechServicer(pb_grpc.SpeechServiceServicer):
    """TTS and STT."""

    async def ListVoices(
        self, request: pb.ListVoicesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVoicesResponse:
        """Every voice and speech model, with whether it can run here."""
        return pb.ListVoicesResponse(
            voices=[
                pb.Voice(
                    name=v.name,
                    kind=v.kind,
                    engine=v.engine,
                    languages=list(v.languages),
                    sample_rate=v.sample_rate,
                    available=v.available,
                    unavailable_reason=v.unavailable_reason,
                    aliases=list(v.aliases),
                )
                for v in CATALOGUE
            ]
        )
