"""Document 000's ``ace3`` SDK: ``import meshserve.compat.ace3 as ace3``.

``ace3.Client(api_key, endpoint, timeout, retry_attempts)`` is the meshserve Client; the
exception names (ModelLoadError, AuthenticationError, APIError, NetworkError), utilities and
global settings are the SDK's own. Training (DistributedConfig, DistributedTrainer,
TrainingConfig, callbacks) is :mod:`meshserve.training`: data-parallel torch.distributed.
"""

from __future__ import annotations

from meshserve import training
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


DistributedConfig = training.DistributedConfig
DistributedTrainer = training.DistributedTrainer
TrainingConfig = training.TrainingConfig
callbacks = training.callbacks

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
