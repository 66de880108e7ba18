"""A Triton worker dies with the inference service that started it: after ``kill -9`` of the
service, none of its ``tritonserver`` processes, nor the python-backend stubs that run their models,
lives on (each held its models' memory), and the restarted service serves with workers of its own."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from tests.procs import Mesh, run_mesh

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def own_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    with run_mesh(tmp_path_factory.mktemp("orphans"), preload_llm=True) as mesh:
        yield mesh


def inference_pid(mesh: Mesh) -> int:
    return int(json.loads((mesh.data_dir / "launcher.json").read_text())["processes"]["inference"]["pid"])


def tritonservers(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True) if p.name() == "tritonserver"]


def predict(mesh: Mesh) -> httpx.Response:
    return httpx.post(
        f"{mesh.base_url}/predict", json={"model_name": "example", "inputs": [1.0, 2.0]}, timeout=120
    )


def test_workers_die_with_a_killed_inference_service(own_mesh: Mesh) -> None:
    assert predict(own_mesh).status_code == 200  # a worker holds the model
    chat = httpx.post(  # and the language model's worker runs too
        f"{own_mesh.base_url}/v1/chat/completions",
        json={
            "model": "smollm2-135m-instruct",
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 2,
        },
        timeout=300,
    )
    assert chat.status_code == 200, chat.text
    pid = inference_pid(own_mesh)
    workers = tritonservers(pid)
    assert workers, "the inference service started no tritonserver"
    everything = psutil.Process(pid).children(recursive=True)
    assert any("backend_stub" in p.name() for p in everything), "no python-backend stub to watch"
    os.kill(pid, signal.SIGKILL)
    gone, alive = psutil.wait_procs(everything, timeout=30)
    assert not alive, f"outlived their service: {[(p.pid, p.name()) for p in alive]}"
    deadline = time.monotonic() + 60
    while inference_pid(own_mesh) == pid or predict(own_mesh).status_code != 200:
        assert time.monotonic() < deadline, "the restarted inference service did not serve within 60 s"
        time.sleep(0.5)
    assert {p.pid for p in tritonservers(inference_pid(own_mesh))}.isdisjoint(p.pid for p in gone)
