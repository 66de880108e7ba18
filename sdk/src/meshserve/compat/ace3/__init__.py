"""Document 000's ``ace3`` SDK: ``import meshserve.compat.ace3 as ace3``.

``ace3.Client(api_key, endpoint, timeout, retry_attempts)`` is the meshserve Client; the
exception names (ModelLoadError, AuthenticationError, APIError, NetworkError), utilities and
global settings are the SDK's own. Training (DistributedConfig, DistributedTrainer,
TrainingConfig, callbacks) is :mod:`meshserve.training`: data-parallel torch.distributed.
"""

from __future__ import annotations

from meshserve import (  # the package's own public names, under 000's module
    APIError,
    AuthenticationError,
    Benchmark,
    ImagePreprocessor,
    MemoryMonitor,
    MeshserveError,
    Model,
    ModelConverter,
    ModelLoadError,
    NetworkError,
    Profiler,
    TextPreprocessor,
    TimeoutError,
    UnsupportedError,
    training,
)
from meshserve.compat import CompatClient
from meshserve.compat.ace3 import utils
from meshserve.config import get_config, set_config, set_log_level, set_logger


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
