"""The Kubernetes driver of fine-tuning runs: each run is a ``batch/v1`` Job made from the manifest
template ``deploy/k8s/training/finetune-job.yaml`` (its name, labels, image and arguments set
here), on a ReadWriteMany volume the inference pods share with it (``shared_dir``).

It follows the run as the API documents: ``POST …/jobs`` creates it, ``GET …/pods?labelSelector=
job-name=…`` finds its pod, ``GET …/pods/{pod}/log`` reads the worker's JSON lines (each line once),
and the pod's phase says when it ended (``Failed`` carries the container's exit code). Stopping a
run early deletes the Job with ``propagationPolicy=Background``, which removes its pod.
"""

from __future__ import annotations

import asyncio
import copy
import re
import shutil
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import yaml

from services.common.kube import api_client
from services.inference.finetune.drivers import WORKER, worker_lines
from services.inference.finetune.spec import FineTuneSettings

TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "k8s" / "training" / "finetune-job.yaml"


def job_name(run_id: str) -> str:
    """The Job's name: an RFC 1123 label from the run id."""
    return ("finetune-" + re.sub(r"[^a-z0-9-]+", "-", run_id.lower())).strip("-")[:63]


def _apis(settings: FineTuneSettings) -> tuple[Any, Any]:
    """BatchV1Api and CoreV1Api over the configured connection (services.common.kube)."""
    from kubernetes import client

    api = api_client(settings.kubernetes_api_url, settings.kubernetes_token, settings.kubernetes_verify_tls)
    return client.BatchV1Api(api), client.CoreV1Api(api)


class KubernetesDriver:
    """Runs the worker as a Job and follows its pod."""

    name = "kubernetes"

    def __init__(self, settings: FineTuneSettings, template: Path = TEMPLATE) -> None:
        self.settings = settings
        self.base_cache: Path | None = settings.shared_dir / "bases"  # on the volume the Jobs share
        self.template = yaml.safe_load(template.read_text())
        self.batch, self.core = _apis(settings)

    def folder(self, run_id: str) -> Path:
        folder = self.settings.shared_dir / run_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def release(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def stage(self, source: Path, folder: Path) -> Path:
        """A copy of the base model on the shared volume: the Job's pod cannot see this pod's disk."""
        target = folder / "base" / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        return target

    def manifest(self, run_id: str, folder: Path) -> dict[str, Any]:
        """The Job for a run."""
        job = copy.deepcopy(self.template)
        job["metadata"]["name"] = job_name(run_id)
        for labels in (job["metadata"]["labels"], job["spec"]["template"]["metadata"]["labels"]):
            labels["meshserve.io/fine-tune-id"] = run_id
        container = job["spec"]["template"]["spec"]["containers"][0]
        container["image"] = self.settings.kubernetes_image
        container["args"] = [*WORKER, str(folder / "spec.json"), str(folder)]
        return job

    async def events(self, run_id: str, folder: Path) -> AsyncGenerator[dict[str, Any], None]:
        namespace, name = self.settings.kubernetes_namespace, job_name(run_id)
        await asyncio.to_thread(self.batch.create_namespaced_job, namespace, self.manifest(run_id, folder))
        seen, ended = 0, False
        try:
            while True:
                pod = await asyncio.to_thread(self._pod, namespace, name)
                phase = pod.status.phase if pod is not None else "Pending"
                if pod is not None and phase != "Pending":
                    text = await asyncio.to_thread(
                        self.core.read_namespaced_pod_log, pod.metadata.name, namespace
                    )
                    lines = text.split("\n")
                    complete = (
                        lines if phase in ("Succeeded", "Failed") else lines[:-1]
                    )  # the last may be partial
                    for line in complete[seen:]:
                        event = worker_lines(line)
                        if event is not None:
                            yield event
                    seen = max(seen, len(complete))
                if phase in ("Succeeded", "Failed"):
                    ended = True
                    if phase == "Failed":
                        yield {"event": "exit", "code": _exit_code(pod)}
                    return
                await asyncio.sleep(self.settings.kubernetes_poll_seconds)
        finally:
            if not ended:  # stopped early: the Job and its pod go
                await asyncio.to_thread(
                    self.batch.delete_namespaced_job, name, namespace, propagation_policy="Background"
                )

    def _pod(self, namespace: str, name: str) -> Any:
        pods = self.core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items
        return pods[0] if pods else None


def _exit_code(pod: Any) -> int:
    for status in pod.status.container_statuses or []:
        terminated = status.state.terminated if status.state else None
        if terminated is not None:
            return int(terminated.exit_code)
    return 1
