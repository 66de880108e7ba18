"""Runs the gateway with uvicorn: ``python -m gateway``."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import uvicorn
from pydantic import ValidationError

from gateway.app import create_app
from gateway.drain import DrainingServer
from gateway.settings import GatewaySettings
from services.common.heap import freeze_startup_heap
from services.common.logs import configure_logging
from services.common.settings import ConfigurationError
from services.common.tracing import configure_tracing


def run() -> None:
    """Serves the gateway until SIGTERM/SIGINT; then drains (``gateway/drain.py``) and exits 0."""
    try:
        settings = GatewaySettings()
        configure_logging("gateway", settings.log_level)
        configure_tracing("gateway")
        app = create_app(settings)
    except (ConfigurationError, ValidationError) as error:  # a setting it cannot use: say which, stop
        print(f"meshserve gateway: configuration error: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        timeout_graceful_shutdown=10,
        access_log=False,
    )
    server = DrainingServer(config, app.state.drain, settings.drain_timeout_seconds)
    freeze_startup_heap()  # the app, its routes and models: out of the collector's walks
    # The server drains, restores the handlers it found and raises the signal again; with these the
    # drained gateway then exits 0 like every gRPC service, instead of dying by the signal.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_cleanly)
    print(f"MESHSERVE_READY service=gateway port={settings.port}", flush=True)
    server.run()


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


if __name__ == "__main__":
    run()
