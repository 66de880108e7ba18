"""Wires the speech service."""

from __future__ import annotations

from meshserve.v1 import speech_pb2, speech_pb2_grpc
from services.common.server import Registration, main
from services.speech.servicer import SpeechServicer
from services.speech.settings import SpeechSettings

SERVICE_NAME = speech_pb2.DESCRIPTOR.services_by_name["SpeechService"].full_name


def build(settings: SpeechSettings) -> Registration:
    """The speech service's registration."""
    servicer = SpeechServicer()
    return Registration(
        add=lambda server: speech_pb2_grpc.add_SpeechServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
    )


def run() -> None:
    """Process entry point."""
    main("speech", SpeechSettings, build)
