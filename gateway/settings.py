"""Settings of the gateway process (``MESHSERVE_GATEWAY_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class GatewaySettings(BaseSettings):
    """Gateway settings."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_GATEWAY_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface the HTTP server binds.")
    port: int = Field(8000, description="HTTP port.")
    log_level: str = Field("INFO", description="Python logging level.")
    health_timeout_seconds: float = Field(1.0, description="Deadline of each service health check.")
    call_timeout_seconds: float = Field(60.0, description="Default deadline of a call into the mesh.")
    restart_wait_seconds: float = Field(
        5.0,
        ge=0,
        description="How long a request waits for a service with no live replica (a restart takes 2-3 s)"
        " before it is answered 503 with Retry-After: a call not yet sent waits for the connection, an"
        " idempotent one that failed on UNAVAILABLE is tried again. 0: answer 503 at once.",
    )
    predict_calls_in_flight: int = Field(
        2,
        ge=1,
        description="Tensor prediction calls the gateway keeps in flight to the inference service; the"
        " predictions that arrive while all are busy go together in the next one (PredictBatch), so"
        " concurrent predictions share the gRPC calls' CPU. A lone prediction is sent at once.",
    )
    predict_streams: int = Field(
        4,
        ge=0,
        description="Send those calls as the messages of long-lived PredictBatchStream calls, this many,"
        " taking turns (each opened through the round robin, so they spread over inference replicas):"
        " a message's round trip costs about 0.17 ms where a call's costs 0.27-0.39 ms. 0: calls of"
        " their own. What a"
        " stream cannot carry (it broke, the inference service drains) goes as a call anyway.",
    )
    max_in_flight_inference: int = Field(
        512,
        ge=0,
        description="Inference requests the gateway takes at once (streams until they end); one more is "
        "refused at once with 429 and Retry-After. 0: no limit.",
    )
    drain_timeout_seconds: float = Field(
        20.0,
        ge=0,
        description="After SIGTERM, how long the gateway waits for the requests it has accepted to "
        "finish, answering new ones with 503 and Retry-After (/v2/health/ready says 503 from the signal on); "
        "then it closes its socket and cancels what still runs after 10 s more.",
    )
    ready_services: list[str] = Field(
        default_factory=lambda: ["auth", "registry", "inference"],
        description="Services that must be SERVING for the readiness probe GET /v2/health/ready to say "
        '200, JSON ["auth", …]; the others (/health reports them all) do not take the gateway out of '
        "rotation.",
    )
    version: str = Field("0.1.0", description="Version reported by /health and /info.")
    cors_origins: list[str] = Field(
        default_factory=list,
        description='Browser origins allowed to call the HTTP API, JSON ["https://app.example"]; empty'
        " (the default) sends no CORS headers, so only same-origin pages can read responses.",
    )
