"""Contract test of the fine-tuning Kubernetes driver against a stand-in API server that follows
the batch/v1 Job and Pod API reference (tests/ops/kube_jobs_stub.py) and runs each Job's
container here: a real (tiny) training run goes through create, pod lookup, log reading and the
pod's end; stopping early deletes the Job; a failed pod's exit code comes back."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.inference.finetune.kubernetes import TEMPLATE, KubernetesDriver, job_name
from services.inference.finetune.spec import FineTuneSettings
from tests.ops.kube_jobs_stub import JobsStub
from tests.textgen.test_registered_model import tiny_model_dir  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.contract, pytest.mark.slow]


def driver(stub: JobsStub, shared: Path) -> KubernetesDriver:
    settings = FineTuneSettings(
        driver="kubernetes",
        shared_dir=shared,
        kubernetes_namespace="ml",
        kubernetes_image="registry.example/meshserve/inference:1.2.3",
        kubernetes_api_url=stub.url,
        kubernetes_token="t0ken",
        kubernetes_poll_seconds=0.1,
    )
    return KubernetesDriver(settings)


def write_spec(folder: Path, source: Path) -> None:
    examples = [
        [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": "Ahoy!"}] for i in range(4)
    ]
    config = {
        "epochs": 1,
        "learning_rate": 0.01,
        "batch_size": 2,
        "validation_split": 0.25,
        "lora_rank": 2,
        "max_steps": 0,
        "seed": 0,
    }
    (folder / "spec.json").write_text(
        json.dumps({"source": str(source), "examples": examples, "config": config, "max_tokens": 64})
    )


async def collect(events: Any, stop_after: str = "") -> list[dict[str, Any]]:
    seen = []
    async with contextlib.aclosing(events) as stream:
        async for event in stream:
            seen.append(event)
            if event["event"] == stop_after:
                break
    return seen


async def test_a_run_is_a_job_whose_pod_log_is_the_progress(tmp_path: Path, tiny_model_dir: Path) -> None:  # noqa: F811
    with JobsStub("t0ken") as stub:
        runner = driver(stub, tmp_path / "shared")
        folder = runner.folder("ft_abc123")
        staged = runner.stage(tiny_model_dir, folder)  # the Job's pod reads the base from the shared volume
        assert staged == folder / "base" / tiny_model_dir.name and (staged / "config.json").exists()
        write_spec(folder, staged)
        events = await collect(runner.events("ft_abc123", folder))
        kinds = [e["event"] for e in events]
        assert kinds[0] == "loading" and "training" in kinds and "progress" in kinds and kinds[-1] == "done"
        assert (folder / "model" / "config.json").exists()  # the Job wrote its output on the shared volume
        created = next(r for r in stub.requests if r["method"] == "POST")
        assert created["path"] == "/apis/batch/v1/namespaces/ml/jobs"
        job = json.loads(created["body"])
        template = yaml.safe_load(TEMPLATE.read_text())
        assert job["metadata"]["name"] == job_name("ft_abc123") == "finetune-ft-abc123"
        assert job["metadata"]["labels"]["meshserve.io/fine-tune-id"] == "ft_abc123"
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "registry.example/meshserve/inference:1.2.3"
        assert container["args"] == [
            "-m",
            "services.inference.finetune.worker",
            str(folder / "spec.json"),
            str(folder),
        ]
        assert (
            job["spec"]["backoffLimit"] == 0 and job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        )
        assert job["spec"]["template"]["spec"]["volumes"] == template["spec"]["template"]["spec"]["volumes"]
        lookups = [r for r in stub.requests if r["path"] == "/api/v1/namespaces/ml/pods"]
        assert lookups and all(
            r["query"]["labelSelector"] == ["job-name=finetune-ft-abc123"] for r in lookups
        )
        assert not any(r["method"] == "DELETE" for r in stub.requests)  # a finished Job is left to its TTL


async def test_stopping_early_deletes_the_job_and_its_pod(tmp_path: Path, tiny_model_dir: Path) -> None:  # noqa: F811
    with JobsStub("t0ken") as stub:
        runner = driver(stub, tmp_path / "shared")
        folder = runner.folder("ft_stop")
        write_spec(folder, tiny_model_dir)
        await collect(runner.events("ft_stop", folder), stop_after="loading")
        deleted = [r for r in stub.requests if r["method"] == "DELETE"]
        assert [r["path"] for r in deleted] == ["/apis/batch/v1/namespaces/ml/jobs/finetune-ft-stop"]
        assert deleted[0]["query"]["propagationPolicy"] == ["Background"]
        assert stub.jobs == {}


async def test_a_failed_pod_reports_its_error_and_exit_code(tmp_path: Path) -> None:
    with JobsStub("t0ken") as stub:
        runner = driver(stub, tmp_path / "shared")
        folder = runner.folder("ft_bad")
        (folder / "spec.json").write_text(
            json.dumps(
                {"source": str(tmp_path / "missing"), "examples": [], "config": {"seed": 0}, "max_tokens": 8}
            )
        )
        events = await collect(runner.events("ft_bad", folder))
        assert events[-2]["event"] == "error" and events[-1] == {"event": "exit", "code": 1}
