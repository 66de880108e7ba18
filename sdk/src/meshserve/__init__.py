"""meshserve Python SDK: a client of the meshserve gateway (REST and SSE) needing only httpx.

``Client`` covers the OpenAI-style chat/completions/models calls (document 002), model upload and
predict (000), infer/stream_infer/system status (004), inference (003) and speech. Errors are the
tree in :mod:`meshserve.errors`. ``meshserve.compat.inferneo`` runs document 002's examples with
only the import line changed.
"""

from meshserve.client import Client
from meshserve.errors import (
    APIError,
    AuthenticationError,
    MeshserveError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TimeoutError,
)

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AuthenticationError",
    "Client",
    "MeshserveError",
    "NetworkError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "TimeoutError",
    "__version__",
]
