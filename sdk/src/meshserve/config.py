"""Process-wide SDK settings (document 000 ``set_config``/``get_config``), logging, config files."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

DEFAULT_BASE_URL = "http://localhost:8000"

_DEFAULTS: dict[str, Any] = {
    "default_timeout": 30.0,  # seconds per request
    "max_retries": 3,  # retries on 429/503 and connection failures
    "log_level": "WARNING",
    "cache_enabled": False,  # cache GET answers (model info, lists) in memory
    "cache_ttl": 3600,  # seconds a cached GET answer stays fresh
    "backoff_base": 0.5,  # seconds; attempt n waits up to base * 2**n (full jitter)
}
_config: dict[str, Any] = dict(_DEFAULTS)
_logger: logging.Logger = logging.getLogger("meshserve")


def set_config(values: dict[str, Any]) -> None:
    """Updates the global configuration (unknown keys are refused)."""
    unknown = set(values) - set(_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown config keys: {sorted(unknown)}; known: {sorted(_DEFAULTS)}")
    _config.update(values)
    if "log_level" in values:
        set_log_level(values["log_level"])


def get_config() -> dict[str, Any]:
    """A copy of the global configuration."""
    return dict(_config)


def reset_config() -> None:
    """Back to the defaults."""
    _config.clear()
    _config.update(_DEFAULTS)


def set_log_level(level: str | int) -> None:
    """Sets the SDK logger's level ("DEBUG", "INFO", ... or a logging constant)."""
    value = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {level!r}")
    _config["log_level"] = logging.getLevelName(value)
    _logger.setLevel(value)


def set_logger(logger: logging.Logger) -> None:
    """Routes the SDK's log records to your logger."""
    global _logger
    _logger = logger


def logger() -> logging.Logger:
    """The logger the SDK writes to (``meshserve`` unless set_logger was called)."""
    return _logger


def api_key_from_env() -> str | None:
    """The API key from MESHSERVE_API_KEY (or the documented ACE3_API_KEY)."""
    return os.environ.get("MESHSERVE_API_KEY") or os.environ.get("ACE3_API_KEY")


def base_url_from_env() -> str | None:
    """MESHSERVE_BASE_URL, when set."""
    return os.environ.get("MESHSERVE_BASE_URL") or None


# Keys of a config file and the Client arguments they become (000 calls the URL "endpoint").
_FILE_KEYS = {
    "api_key": "api_key",
    "endpoint": "base_url",
    "base_url": "base_url",
    "timeout": "timeout",
    "retry_attempts": "max_retries",
    "max_retries": "max_retries",
    "headers": "headers",
}


def read_config_file(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Client arguments from a JSON config file (default: $MESHSERVE_CONFIG or ~/.meshserve/config.json)."""
    if path is None:
        path = os.environ.get("MESHSERVE_CONFIG") or Path.home() / ".meshserve" / "config.json"
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    unknown = set(data) - set(_FILE_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}; known: {sorted(_FILE_KEYS)}")
    return {_FILE_KEYS[k]: v for k, v in data.items()}
