"""Schemathesis over the gateway's OpenAPI on a mesh of its own: every operation gets generated and
mutated requests, and none may answer a server error, hang past the request timeout, answer a
content type or a body its OpenAPI does not document (error bodies included: each operation's are
documented in its surface's envelope), or accept a request its schema says is invalid.

The run is bounded (``MESHSERVE_FUZZ_EXAMPLES`` cases per operation, 2 by default) with a fixed
seed, so the suite stays fast and a failure reproduces; ``make fuzz`` runs it longer with a fresh
seed. The failures earlier runs found are kept as plain regression tests in ``test_bad_requests.py``
and ``test_strict_bodies.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hub_stub import EmptyHub
from tests.procs import Mesh, run_mesh

#: A time-bounded run (``make fuzz``) gets its bound plus ten minutes for the mesh and the last cases.
FUZZ_TIMEOUT = int(os.environ.get("MESHSERVE_FUZZ_SECONDS") or 0) + 600
pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(FUZZ_TIMEOUT)]

SCHEMATHESIS = Path(sys.executable).with_name("st")

#: Operations left out, with why.
EXCLUDED = {
    "kserve_ready": "a readiness probe answers 503 while no worker is ready: that is its answer",
}
CHECKS = "not_a_server_error,content_type_conformance,response_schema_conformance,negative_data_rejection"


@pytest.fixture(scope="module")
def fuzz_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """A mesh of its own: the fuzzer registers, loads and deletes whatever the API lets it."""
    # Generations the fuzzer asks for without max_tokens stop at 32 tokens rather than 256: the run
    # checks the API's answers, and 256 tokens for each of a batch of fuzzed requests can outlast
    # the 60 s request timeout on two busy cores. Hugging Face imports go to a loopback hub with no
    # repositories: the real hub is not reachable here (which answers 503, rightly, but is not what
    # the fuzzer is for), and a name it does not have must be a 404.
    hub = EmptyHub()
    env = {"MESHSERVE_INFERENCE_LLM_DEFAULT_MAX_TOKENS": "32", "HF_ENDPOINT": hub.url}
    try:
        with run_mesh(tmp_path_factory.mktemp("fuzz"), env) as mesh:
            yield mesh
    finally:
        hub.close()


def test_no_operation_answers_a_server_error_or_an_undocumented_content_type(
    fuzz_mesh: Mesh, tmp_path: Path
) -> None:
    excluded = [arg for op in EXCLUDED for arg in ("--exclude-operation-id", op)]
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{fuzz_mesh.base_url}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        os.environ.get("MESHSERVE_FUZZ_EXAMPLES", "2"),
        "--seed",
        os.environ.get("MESHSERVE_FUZZ_SEED", "2"),
        "--request-timeout",
        "60",
        "--no-color",
        *excluded,
    ]
    if os.environ.get("MESHSERVE_FUZZ_SECONDS"):
        command += ["--max-time", os.environ["MESHSERVE_FUZZ_SECONDS"]]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=tmp_path)
    summary = result.stdout[-30000:]
    assert result.returncode == 0, summary
    assert "Server error" not in summary and "Network Error" not in summary
