"""The SDK's public names are pinned: adding or removing one is a deliberate change."""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys

import meshserve
import meshserve.cli
import meshserve.compat.ace3 as ace3
from meshserve.compat import auterity, inferneo, llama_gpu

CORE = [
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


def test_public_names() -> None:
    assert sorted(meshserve.__all__) == CORE
    for name in CORE:
        assert hasattr(meshserve, name), name


def test_compat_names() -> None:
    assert sorted(inferneo.__all__) == [
        "AsyncInferneoClient",
        "InferneoAPIError",
        "InferneoClient",
        "InferneoError",
        "InferneoTimeoutError",
    ]
    assert llama_gpu.__all__ == ["LlamaGPUClient"]
    assert auterity.__all__ == ["AIClient"]
    assert {"Client", "ModelLoadError", "AuthenticationError", "APIError", "NetworkError", "utils"} <= set(
        ace3.__all__
    )
    for module in (inferneo, llama_gpu, auterity, ace3):
        for name in module.__all__:
            assert hasattr(module, name), (module.__name__, name)


def test_document_error_names_are_the_sdk_tree() -> None:
    assert issubclass(inferneo.InferneoClient, meshserve.Client)
    assert issubclass(inferneo.AsyncInferneoClient, meshserve.AsyncClient)
    assert inferneo.InferneoAPIError is meshserve.APIError
    assert inferneo.InferneoError is meshserve.MeshserveError
    assert inferneo.InferneoTimeoutError is meshserve.TimeoutError
    assert ace3.ModelLoadError is meshserve.ModelLoadError
    assert ace3.NetworkError is meshserve.NetworkError
    assert issubclass(meshserve.ModelLoadError, meshserve.APIError)
    assert issubclass(meshserve.TimeoutError, meshserve.NetworkError)
    assert ace3.utils.retry is meshserve.retry


def test_core_imports_without_grpc_torch_or_numpy() -> None:
    """Importing the SDK, the CLI and every compat module pulls in neither grpc, protobuf, torch nor numpy."""
    code = (
        "import sys, meshserve, meshserve.cli, meshserve.compat.ace3, meshserve.compat.inferneo, "
        "meshserve.compat.llama_gpu, meshserve.compat.auterity, meshserve.grpc; "
        "bad = [m for m in ('grpc', 'torch', 'google.protobuf', 'numpy') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def test_cli_entry_point_and_commands() -> None:
    """The console script and its command set are public too."""
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="meshserve")
    assert script.value == "meshserve.cli:main" and script.load() is meshserve.cli.main
    commands = _commands(meshserve.cli.build_parser())
    assert sorted(commands) == ["chat", "models", "predict", "speak", "status", "transcribe", "up"]
    assert sorted(_commands(commands["models"])) == ["list", "load", "unload", "upload"]
