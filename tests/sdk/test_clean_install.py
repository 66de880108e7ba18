"""``pip install ./sdk`` into a fresh virtual environment (no system site packages): the SDK, its
compatibility modules and the ``meshserve`` command work there with httpx alone; neither torch nor
grpc is installed or importable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.procs import ROOT, free_port

pytestmark = pytest.mark.slow

CHECK = """
import importlib.metadata as md, importlib.util, json, sys
import meshserve, meshserve.cli, meshserve.grpc
import meshserve.compat.ace3, meshserve.compat.auterity, meshserve.compat.inferneo, meshserve.compat.llama_gpu
from meshserve.compat.ace3 import utils
meshserve.Client("http://127.0.0.1:9").close()
HEAVY = ("torch", "grpc", "google.protobuf", "numpy")
imported = [m for m in HEAVY if m in sys.modules]


def findable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:  # a missing parent package (google)
        return False


print(json.dumps({
    "file": meshserve.__file__,
    "version": meshserve.__version__,
    "requires": md.requires("meshserve"),
    "installed": sorted(d.metadata["Name"].lower() for d in md.distributions()),
    "findable": [m for m in HEAVY if findable(m)],
    "imported": imported,
}))
"""


def test_sdk_installs_and_runs_in_a_clean_venv(tmp_path: Path) -> None:
    source = tmp_path / "sdk"  # a copy, so the build leaves nothing in the working tree
    shutil.copytree(ROOT / "sdk", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python, script = venv / "bin" / "python", venv / "bin" / "meshserve"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(source)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr

    checked = subprocess.run(
        [str(python), "-c", CHECK], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert checked.returncode == 0, checked.stderr
    facts = json.loads(checked.stdout)
    assert Path(facts["file"]).is_relative_to(venv), facts["file"]  # not the repository's sdk/src
    assert [r for r in facts["requires"] if "extra ==" not in r] == ["httpx>=0.25"], facts["requires"]
    assert "httpx" in facts["installed"] and "meshserve" in facts["installed"]
    assert not {"torch", "grpcio", "protobuf", "numpy"} & set(facts["installed"]), facts["installed"]
    assert facts["findable"] == [] and facts["imported"] == []

    helped = subprocess.run([str(script), "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert helped.returncode == 0, helped.stderr
    for command in ("models", "predict", "chat", "speak", "transcribe", "up", "status"):
        assert f"\n    {command} " in helped.stdout, command

    up = subprocess.run([str(script), "up"], capture_output=True, text=True, env=env, timeout=60)
    assert up.returncode == 2 and "need the server package" in up.stderr

    offline = subprocess.run(
        [str(script), "models", "list", "--base-url", f"http://127.0.0.1:{free_port()}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert offline.returncode == 1 and offline.stderr.startswith("meshserve: error: cannot reach the gateway")
