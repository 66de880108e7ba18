"""Wires the speech service: settings → core (engines loading in the background) → servicer."""

from __future__ import annotations

from meshserve.v1 import metering_pb2_grpc, speech_pb2, speech_pb2_grpc
from services.common.clients import ChannelPool
from services.common.metering import Meter
from services.common.server import Registration, main
from services.speech.core import SpeechCore
from services.speech.servicer import SpeechServicer
from services.speech.settings import SpeechSettings

SERVICE_NAME = speech_pb2.DESCRIPTOR.services_by_name["SpeechService"].full_name


def build(settings: SpeechSettings) -> Registration:
    """The speech service's registration."""
    holder: dict[str, SpeechCore] = {}
    channels = ChannelPool()
    # Characters synthesised and seconds transcribed, billed to their tenants (as generations are).
    meter = Meter(
        lambda: metering_pb2_grpc.MeteringServiceStub(channels.channel("auth")),
        flush_seconds=settings.metering_flush_seconds,
        batch_size=500,
        queue_size=100_000,
    )

    def add(server: object) -> None:
        # The core owns asyncio primitives: build it inside the server's running loop.
        core = SpeechCore(settings)
        holder["core"] = core
        servicer = SpeechServicer(core, meter if settings.metering_enabled else None)
        speech_pb2_grpc.add_SpeechServiceServicer_to_server(servicer, server)

    async def on_start() -> None:
        holder["core"].start(engines=settings.preload)
        meter.start()

    async def on_stop() -> None:
        await meter.stop()
        await channels.close()

    async def ready() -> bool:
        # Ready once every preloaded engine has finished loading (a failed one is retried by the next
        # request that needs it, which gets the load error rather than a wait).
        core = holder["core"]
        return not settings.preload or all(slot.state != "loading" for slot in (core.tts, core.stt))

    return Registration(
        add=add, service_names=[SERVICE_NAME], on_start=on_start, on_stop=on_stop, ready=ready
    )


def run() -> None:
    """Process entry point."""
    main("speech", SpeechSettings, build)
