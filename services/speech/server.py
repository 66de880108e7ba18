"""Wires the speech service: settings → core (engines loading in the background) → servicer."""

from __future__ import annotations

from meshserve.v1 import speech_pb2, speech_pb2_grpc
from services.common.server import Registration, main
from services.speech.core import SpeechCore
from services.speech.servicer import SpeechServicer
from services.speech.settings import SpeechSettings

SERVICE_NAME = speech_pb2.DESCRIPTOR.services_by_name["SpeechService"].full_name


def build(settings: SpeechSettings) -> Registration:
    """The speech service's registration."""
    holder: dict[str, SpeechCore] = {}

    def add(server: object) -> None:
        # The core owns asyncio primitives: build it inside the server's running loop.
        core = SpeechCore(settings)
        holder["core"] = core
        speech_pb2_grpc.add_SpeechServiceServicer_to_server(SpeechServicer(core), server)

    async def on_start() -> None:
        holder["core"].start(engines=settings.preload)

    return Registration(add=add, service_names=[SERVICE_NAME], on_start=on_start)


def run() -> None:
    """Process entry point."""
    main("speech", SpeechSettings, build)
