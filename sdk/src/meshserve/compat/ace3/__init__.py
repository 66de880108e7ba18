"""Document 000's ``ace3`` SDK: ``import meshserve.compat.ace3 as ace3``.

``ace3.Client(api_key, endpoint, timeout, retry_attempts)`` is the meshserve Client; the
exception names (ModelLoadError, AuthenticationError, APIError, NetworkError), utilities and
global settings are the SDK's own. Training (DistributedConfig, DistributedTrainer,
TrainingConfig, callbacks) is not part of a serving mesh: those names exist so 000's examples
fail with a clear :class:`UnsupportedError` instead of an AttributeError.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, NoReturn

from meshserve.compat import CompatClient
from meshserve.compat.ace3 import utils
from meshserve.config import get_config, set_config, set_log_level, set_logger
from meshserve.errors import (
    APIError,
    AuthenticationError,
    MeshserveError,
    ModelLoadError,
    NetworkError,
    TimeoutError,
    UnsupportedError,
)
from meshserve.model import Model
from meshserve.tools import (
    Benchmark,
    ImagePreprocessor,
    MemoryMonitor,
    ModelConverter,
    Profiler,
    TextPreprocessor,
)


class Client(CompatClient):
    """000's ``ace3.Client(api_key=..., endpoint=..., timeout=..., retry_attempts=...)``."""


def _training(name: str) -> type:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise UnsupportedError(
            f"ace3.{name}: training is not part of meshserve (it serves models); "
            "train elsewhere and upload the exported ONNX/TorchScript model"
        )

    return type(name, (), {"__init__": refuse, "__doc__": f"Not offered: {name} (training)."})


DistributedConfig = _training("DistributedConfig")
DistributedTrainer = _training("DistributedTrainer")
TrainingConfig = _training("TrainingConfig")
callbacks = SimpleNamespace(
    EarlyStopping=_training("callbacks.EarlyStopping"),
    ModelCheckpoint=_training("callbacks.ModelCheckpoint"),
    ReduceLROnPlateau=_training("callbacks.ReduceLROnPlateau"),
    TensorBoard=_training("callbacks.TensorBoard"),
)

__all__ = [
    "APIError",
    "AuthenticationError",
    "Benchmark",
    "Client",
    "DistributedConfig",
    "DistributedTrainer",
    "ImagePreprocessor",
    "MemoryMonitor",
    "MeshserveError",
    "Model",
    "ModelConverter",
    "ModelLoadError",
    "NetworkError",
    "Profiler",
    "TextPreprocessor",
    "TimeoutError",
    "TrainingConfig",
    "UnsupportedError",
    "callbacks",
    "get_config",
    "set_config",
    "set_log_level",
    "set_logger",
    "utils",
]
