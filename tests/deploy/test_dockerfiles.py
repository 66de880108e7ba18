"""Dockerfiles: multi-stage, pinned bases, non-root, health-checked, one per role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.launcher.supervisor import PROCESS_NAMES
from tests.deploy.manifests import ROOT

DOCKER_DIR = ROOT / "deploy" / "docker"
DOCKERFILES = sorted(DOCKER_DIR.glob("*.Dockerfile"))


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_one_dockerfile_per_role_and_the_worker():
    roles = {path.name.removesuffix(".Dockerfile") for path in DOCKERFILES}
    assert roles == {*PROCESS_NAMES, "worker"}


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_rules(path):
    steps = instructions(path)
    froms = [args for keyword, args in steps if keyword == "FROM"]
    assert len(froms) >= 2, "multi-stage: a build stage and a run stage"
    for base in froms:
        image = base.split()[0]
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest", f"unpinned base image {image}"
        assert re.search(r"\d", tag), f"base tag without a version: {image}"
    run_stage = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    users = [args for keyword, args in run_stage if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the run stage must not run as root"
    healthchecks = [args for keyword, args in run_stage if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "CMD" in healthchecks[0]
    assert any(k == "COPY" and args.startswith("--from=build") for k, args in run_stage)
    cmd = next(args for keyword, args in reversed(steps) if keyword == "CMD")
    assert '"-m"' in cmd
    # Installs follow the project's pins, and torch is never unpinned.
    for keyword, args in steps:
        if keyword == "RUN" and "pip install" in args and "--no-deps" not in args:
            assert "-c constraints.txt" in args, args
        if keyword == "RUN" and "torch" in args:
            assert "torch==2.13.0" in args, args


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_healthcheck_and_port_match_the_role(path):
    from services.common.settings import DEFAULT_PORTS

    role = path.name.removesuffix(".Dockerfile")
    port = {"gateway": 8000, "worker": DEFAULT_PORTS["inference"]}.get(role) or DEFAULT_PORTS[role]
    steps = dict((k, a) for k, a in instructions(path) if k in ("EXPOSE", "HEALTHCHECK", "CMD"))
    assert steps["EXPOSE"] == str(port)
    assert f"127.0.0.1:{port}" in steps["HEALTHCHECK"]
    module = "gateway" if role == "gateway" else f"services.{'inference' if role == 'worker' else role}"
    assert f'"{module}"' in steps["CMD"]


@pytest.mark.parametrize("role", ["inference", "worker"])
def test_images_that_serve_language_models_carry_llama_cpp(role):
    steps = instructions(DOCKER_DIR / f"{role}.Dockerfile")
    installs = [a for k, a in steps if k == "RUN" and "llama-cpp-python" in a]
    assert installs and all("-c constraints.txt" in a and "CMAKE_ARGS=" in a for a in installs)
    run_stage = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    assert any(k == "RUN" and "libgomp1" in a for k, a in run_stage), "llama.cpp's OpenMP runtime"


def test_worker_runs_on_the_triton_base_image():
    froms = [a for k, a in instructions(DOCKER_DIR / "worker.Dockerfile") if k == "FROM"]
    assert all(a.startswith("nvcr.io/nvidia/tritonserver:") and "-py3" in a for a in froms)


def test_dockerignore_keeps_state_and_environments_out():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", "**/__pycache__", ".env"} <= set(ignored)


def test_the_gpu_worker_runs_onnx_models_on_cuda():
    """The worker image replaces onnxruntime's CPU build with its CUDA build (same module name), pinned."""
    steps = [a for k, a in instructions(DOCKER_DIR / "worker.Dockerfile") if k == "RUN"]
    swap = [a for a in steps if "onnxruntime-gpu" in a]
    assert swap and "pip uninstall -y onnxruntime" in swap[0]
    pins = (ROOT / "constraints.txt").read_text().splitlines()
    assert any(line.startswith("onnxruntime-gpu==") for line in pins), "pinned in constraints.txt"
    installs = [i for i, a in enumerate(steps) if '".[models]"' in a]
    assert installs and steps.index(swap[0]) > installs[0], "the CUDA build must come after the CPU one"
