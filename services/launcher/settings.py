"""Settings of the launcher (``MESHSERVE_*``): where each process listens and keeps its state."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.settings import DEFAULT_PORTS


class LauncherSettings(BaseSettings):
    """The embedded mesh's layout."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_", extra="ignore")

    host: str = Field("127.0.0.1", description="Interface every process binds.")
    data_dir: Path = Field(Path("var"), description="State of every service (SQLite, blobs, logs).")
    gateway_port: int = Field(8000, description="HTTP port of the gateway.")
    auth_port: int = Field(DEFAULT_PORTS["auth"], description="gRPC port of auth.")
    registry_port: int = Field(DEFAULT_PORTS["registry"], description="gRPC port of registry.")
    inference_port: int = Field(DEFAULT_PORTS["inference"], description="gRPC port of inference.")
    speech_port: int = Field(DEFAULT_PORTS["speech"], description="gRPC port of speech.")
    autoscaler_port: int = Field(DEFAULT_PORTS["autoscaler"], description="gRPC port of autoscaler.")
    replicas: str = Field(
        "",
        description="Replicas per process, e.g. `inference=2,gateway=2` (also `meshserve up --replicas`); "
        "replica N listens on the first one's port + 100·(N-1) (gateways: + N-1). More than one needs "
        "PostgreSQL and Redis.",
    )
    postgres: bool = Field(
        False,
        description="Start a PostgreSQL server for the mesh's shared state (`meshserve up --postgres`).",
    )
    redis: bool = Field(
        False, description="Start a Redis server for shared counters, cache and events (`--redis`)."
    )
    postgres_port: int = Field(55432, description="Port of the PostgreSQL server `--postgres` starts.")
    redis_port: int = Field(56379, description="Port of the Redis server `--redis` starts.")
    startup_timeout_seconds: float = Field(180.0, description="How long to wait for every process to serve.")
    restart_backoff_max_seconds: float = Field(10.0, description="Longest wait before restarting a process.")

    def port_of(self, name: str) -> int:
        """Port of a process by name."""
        return int(getattr(self, f"{name}_port"))

    @property
    def state_file(self) -> Path:
        """Where ``meshserve up`` records its processes for ``meshserve status``."""
        return self.data_dir / "launcher.json"

    @property
    def log_dir(self) -> Path:
        """Directory of the per-process log files."""
        return self.data_dir / "logs"

    def replica_counts(self) -> dict[str, int]:
        """Replicas per process name (1 unless ``replicas`` says otherwise); ValueError on a bad entry."""
        counts = {name: 1 for name in (*DEFAULT_PORTS, "gateway")}
        for entry in filter(None, (e.strip() for e in self.replicas.split(","))):
            name, _, count = entry.partition("=")
            name = name.strip()
            if name not in counts or not count.strip().isdigit() or int(count) < 1:
                raise ValueError(
                    f"MESHSERVE_REPLICAS: {entry!r} is not <process>=<count ≥ 1> "
                    f"(processes: {', '.join(counts)})"
                )
            if name == "autoscaler" and int(count) != 1:
                raise ValueError(
                    "MESHSERVE_REPLICAS: the autoscaler is a controller and runs once (two would scale twice)"
                )
            counts[name] = int(count)
        return counts

    def replica_port(self, name: str, replica: int) -> int:
        """Port of replica ``replica`` (1-based) of a process."""
        if name == "gateway":
            return self.gateway_port + replica - 1
        return self.port_of(name) + 100 * (replica - 1)
