"""The SDK's public names are pinned: adding or removing one is a deliberate change."""

from __future__ import annotations

import meshserve
from meshserve.compat import inferneo


def test_public_names() -> None:
    assert sorted(meshserve.__all__) == [
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


def test_inferneo_aliases() -> None:
    assert inferneo.InferneoClient is meshserve.Client
    assert issubclass(inferneo.InferneoAPIError, inferneo.InferneoError)
    assert issubclass(inferneo.InferneoTimeoutError, inferneo.InferneoError)


def test_core_imports_without_grpc_or_torch() -> None:
    """Importing the SDK core pulls in neither grpc nor torch (checked in a clean interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys, meshserve, meshserve.compat.inferneo; "
        "bad = [m for m in ('grpc', 'torch', 'google.protobuf') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
