"""The JavaScript SDK (``sdk/js``): its ``node:test`` suite against this session's mesh (documents
003 and 004, streaming, cancellation, typed errors, Socket.IO, the documents' examples and the
packed tarball), and the examples' copies against the documents' JavaScript blocks.

``make test`` installs Node.js and the package's dependencies first (``make js-sdk``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.procs import Mesh
from tests.sdk_examples.harness import document, spec_dir

JS = Path(__file__).resolve().parents[2] / "sdk" / "js"
EXAMPLES = JS / "examples"
#: The import line each document's examples use, and the one their copies use instead. 004's socket
#: examples import nothing (the first one uses ``io``): its copy gains the import as its first line.
IMPORTS = {
    "003": ("import { AIClient } from '@auterity/ai-sdk';", "import { AIClient } from '@meshserve/client';"),
    "004": (
        "const { LlamaGPUClient } = require('llama-gpu-client');",
        "const { LlamaGPUClient } = require('@meshserve/client');",
    ),
}
#: 003's first javascript block shows the SSE wire format (``data: {...}`` lines), not a program.
NOT_PROGRAMS = {("003", 1)}


def npm(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Runs npm in sdk/js."""
    assert shutil.which("npm"), "Node.js is missing: make js-sdk installs it"
    assert (JS / "node_modules").is_dir(), "the JavaScript SDK's dependencies are missing: run make js-sdk"
    return subprocess.run(
        ["npm", *args], cwd=JS, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.slow
def test_the_javascript_sdk_suite_passes_against_the_mesh(llm_mesh: Mesh) -> None:
    built = npm("run", "build")
    assert built.returncode == 0, built.stdout + built.stderr
    run = npm("test", env={**os.environ, "MESHSERVE_BASE_URL": llm_mesh.base_url})
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    counts = dict(re.findall(r"^# (pass|fail|skipped|cancelled) (\d+)$", report, re.M))
    assert counts.get("fail") == "0" and counts.get("skipped") == "0" and counts.get("cancelled") == "0"
    assert int(counts["pass"]) >= 16, report  # transport, mesh and example tests all ran


def javascript_blocks(doc: str) -> list[str]:
    """The document's ```javascript blocks that are programs, in order."""
    blocks = re.findall(r"```javascript\n(.*?)```", document(doc), re.S)
    return [b for n, b in enumerate(blocks, 1) if (doc, n) not in NOT_PROGRAMS]


@pytest.mark.skipif(spec_dir() is None, reason="the documents (shared/seeds) are not here")
@pytest.mark.parametrize("doc", ["003", "004"])
def test_every_javascript_example_has_a_verbatim_copy(doc: str) -> None:
    copies = sorted(p for p in EXAMPLES.iterdir() if p.name.startswith(f"d{doc}_"))
    blocks = javascript_blocks(doc)
    assert [p.stem for p in copies] == [f"d{doc}_{n:02d}" for n in range(1, len(blocks) + 1)]
    original, replacement = IMPORTS[doc]
    for copy, block in zip(copies, blocks, strict=True):
        text = copy.read_text()
        if original in block:
            assert text == block.replace(original, replacement), f"{copy.name} differs from document {doc}"
        elif text.startswith("import { io } from '@meshserve/client';\n"):
            assert text.split("\n", 1)[1] == block, f"{copy.name} differs from document {doc}"
        else:
            assert text == block, f"{copy.name} differs from document {doc}"
