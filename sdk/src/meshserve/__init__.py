"""meshserve Python SDK: one client for every documented client API of the meshserve gateway
(REST and SSE), needing only httpx.

* :class:`Client` / :class:`AsyncClient` - OpenAI-style ``chat.completions``/``completions``/
  ``models`` (document 002), model loading, ``predict`` and ``optimize`` (000), ``infer``/
  ``batch_infer``/``stream_infer``/``list_models``/``get_system_status`` (004), ``inference``/
  ``stream``/``batch`` (003), ``speak``/``transcribe``/``translate``.
* Retries on 429/503 with jittered exponential backoff honouring ``Retry-After``; API key from
  the argument, ``MESHSERVE_API_KEY``/``ACE3_API_KEY`` or ``Client.from_config``.
* Errors: the tree documented in :mod:`meshserve.errors`.
* Document aliases: ``meshserve.compat.ace3``, ``.inferneo``, ``.llama_gpu``, ``.auterity``.
* gRPC (``pip install meshserve[grpc]``): :mod:`meshserve.grpc`.
"""

from meshserve.client import AsyncClient, Client
from meshserve.config import get_config, set_config, set_log_level, set_logger
from meshserve.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    MeshserveError,
    ModelLoadError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TimeoutError,
    UnsupportedError,
)
from meshserve.model import Model, PredictionStream
from meshserve.tools import (
    Benchmark,
    ImagePreprocessor,
    MemoryMonitor,
    ModelConverter,
    Profiler,
    TextPreprocessor,
    retry,
)

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Benchmark",
    "Client",
    "ImagePreprocessor",
    "MemoryMonitor",
    "MeshserveError",
    "Model",
    "ModelConverter",
    "ModelLoadError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "PredictionStream",
    "Profiler",
    "RateLimitError",
    "ServerError",
    "TextPreprocessor",
    "TimeoutError",
    "UnsupportedError",
    "__version__",
    "get_config",
    "retry",
    "set_config",
    "set_log_level",
    "set_logger",
]
