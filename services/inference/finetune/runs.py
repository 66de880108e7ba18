"""Fine-tuning runs: their records in the inference store, a training process per run
(:mod:`.worker`), progress as it comes, and registration of the result.

A run is validated (the request, then the base model: it must be a language model this service
can load) before anything starts. Each run trains in a child process, ``concurrent_runs`` at a
time, never on the service's event loop; its JSON progress lines update the record and go out as
``finetune.progress`` webhook events (at most one every ``PROGRESS_EVERY`` seconds, plus every
eval). The merged model is uploaded to the registry as a new version of ``output_name`` with its
lineage in its labels: base model, dataset hash, hyper-parameters and final metrics; the registry
stores an upload whole or not at all. Cancelling kills the process (or abandons the upload), so
nothing half-trained is ever registered. With a store several replicas share, any replica answers
for any run, and a run whose replica is gone ends (:mod:`.leases`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tarfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc

from meshserve.v1 import common_pb2, registry_pb2
from meshserve.v1 import registry_pb2_grpc as registry_grpc
from services.common.clients import call_metadata
from services.common.errors import (
    AlreadyExists,
    BackendUnavailable,
    FailedPrecondition,
    InvalidInput,
    MeshError,
    ModelNotFound,
    NotFound,
)
from services.inference.finetune.drivers import LocalDriver, TrainingDriver, exit_message
from services.inference.finetune.leases import RunLeases
from services.inference.finetune.spec import FineTuneSettings, FineTuneSpec
from services.inference.jobs.store import SqlJobStore
from services.inference.jobs.webhooks import WebhookHub
from services.inference.llm.catalog import LLMCatalog

log = logging.getLogger("meshserve.inference.finetune")

FINAL = ("succeeded", "failed", "cancelled")
PROGRESS_EVERY = 2.0
CHUNK = 1 << 20
COLUMNS = (
    "fine_tune_id, status, base_model, output_name, output_version, progress, dataset_sha256, config,"
    " created_at, finished_at, error"
)


@dataclass
class FineTuneRecord:
    """A run as stored."""

    fine_tune_id: str
    status: str
    base_model: str
    output_name: str
    dataset_sha256: str
    config: dict[str, Any]
    created_at: float = field(default_factory=time.time)
    output_version: str = ""
    progress: dict[str, Any] = field(default_factory=dict)
    finished_at: float | None = None
    error: str = ""


class FineTuneRuns:
    """Starts, follows, registers and cancels runs."""

    def __init__(
        self,
        db: SqlJobStore,
        catalog: LLMCatalog,
        registry: Callable[[], registry_grpc.RegistryServiceStub],
        hub: WebhookHub,
        settings: FineTuneSettings,
        driver: TrainingDriver | None = None,
        leases: RunLeases | None = None,
    ) -> None:
        self.driver: TrainingDriver = driver or LocalDriver()
        self.leases = leases or RunLeases(db, lease_seconds=10.0)
        self.db = db
        self.catalog = catalog
        self.registry = registry
        self.hub = hub
        self.settings = settings
        self._slots = asyncio.Semaphore(settings.concurrent_runs)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stopping = False

    def recover(self) -> int:
        """Fails the runs a previous life of this service left unfinished (with a private store,
        every unfinished run was this service's); how many."""
        if self.db.shared:
            return 0
        cursor = self.db.run(
            "UPDATE fine_tunes SET status = 'failed', finished_at = ?, error = ?"
            " WHERE status NOT IN ('succeeded', 'failed', 'cancelled')",
            (time.time(), "interrupted: the inference service stopped during the run; start it again"),
        )
        return int(cursor.rowcount)

    async def create(self, spec: FineTuneSpec) -> FineTuneRecord:
        """Checks the base model, records the run and starts it in the background."""
        try:
            base = await self.catalog.resolve(spec.base_model)
        except ModelNotFound as error:
            if "format" in error.details:  # registered, but not a language model
                raise InvalidInput(error.message, details={"field": "base_model", **error.details}) from None
            raise
        await self._check_output_name(spec.output_name)
        record = FineTuneRecord(
            fine_tune_id=f"ft_{uuid.uuid4().hex[:16]}",
            status="queued",
            base_model=spec.base_model,
            output_name=spec.output_name,
            dataset_sha256=spec.dataset_sha256,
            config={**spec.config.to_json(), "callback_url": spec.callback_url},
        )
        await asyncio.to_thread(self._insert, record)
        await asyncio.to_thread(self.leases.take, record.fine_tune_id, time.time())
        self._tasks[record.fine_tune_id] = asyncio.create_task(self._run(record, spec, base.source))
        return record

    async def _check_output_name(self, name: str) -> None:
        """The result becomes the name's next version, which a tensor model's name cannot take, nor
        a model served from this service's own files (the bundled one, or one configured by path):
        the registry would refuse it only after the training, or such a version never serve."""
        if name in self.catalog.sources:
            raise InvalidInput(
                f"output_name {name!r} is a built-in language model's name; a fine-tuned model cannot "
                "be its next version",
                details={"field": "output_name"},
                suggestion="choose another output_name",
            )
        request = registry_pb2.GetModelRequest(ref=common_pb2.ModelRef(name=name))
        try:
            reply = await self.registry().GetModel(request, timeout=30, metadata=call_metadata())
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return  # a new name
            raise MeshError.from_rpc_error(error) from None
        if reply.model.task != common_pb2.MODEL_TASK_TEXT_GENERATION:
            raise AlreadyExists(
                f"output_name {name!r} is a tensor model's name; a fine-tuned language model cannot be "
                "its next version",
                details={"field": "output_name"},
                suggestion="choose another output_name",
            )

    def get(self, fine_tune_id: str) -> FineTuneRecord:
        """A run; NotFound naming the id."""
        row = self.db.run(
            f"SELECT {COLUMNS} FROM fine_tunes WHERE fine_tune_id = ?", (fine_tune_id,)
        ).fetchone()
        if row is None:
            raise NotFound(
                f"fine-tune {fine_tune_id!r} does not exist", details={"fine_tune_id": fine_tune_id}
            )
        return FineTuneRecord(
            fine_tune_id=row[0],
            status=row[1],
            base_model=row[2],
            output_name=row[3],
            output_version=row[4],
            progress=json.loads(row[5]),
            dataset_sha256=row[6],
            config=json.loads(row[7]),
            created_at=float(row[8]),
            finished_at=float(row[9]) if row[9] is not None else None,
            error=row[10],
        )

    async def cancel(self, fine_tune_id: str) -> FineTuneRecord:
        """Stops a run that has not ended; nothing is registered."""
        record = self.get(fine_tune_id)
        if record.status in FINAL:
            raise FailedPrecondition(
                f"fine-tune {fine_tune_id!r} already {record.status}",
                details={"fine_tune_id": fine_tune_id, "status": record.status},
            )
        task = self._tasks.get(fine_tune_id)
        if task is None:  # another replica runs it: its owner stops it at its next renewal
            return await self._cancel_elsewhere(fine_tune_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return self.get(fine_tune_id)

    async def _cancel_elsewhere(self, fine_tune_id: str) -> FineTuneRecord:
        """Asks the run's owner to cancel it and waits until the run has ended (a gone owner's run
        ends once its lease runs out)."""
        await asyncio.to_thread(self.leases.ask_to_cancel, fine_tune_id)
        deadline = time.monotonic() + self.leases.lease_seconds * 3
        while (record := await asyncio.to_thread(self.get, fine_tune_id)).status not in FINAL:
            if time.monotonic() > deadline:
                raise BackendUnavailable(
                    f"fine-tune {fine_tune_id!r} runs on another replica, which has not stopped it yet",
                    details={"fine_tune_id": fine_tune_id},
                    suggestion="the cancel stands: read the run's status again shortly",
                )
            await self.look()
            await asyncio.sleep(0.2)
        return record

    async def look(self) -> None:
        """One look at the shared store: renews this replica's leases, cancels the runs another
        replica asked to, and ends (with their webhooks) the runs whose replica is gone."""
        now = time.time()
        running_here = list(self._tasks)
        for fine_tune_id in await asyncio.to_thread(self.leases.renew, now, running_here):
            task = self._tasks.get(fine_tune_id)
            if task is not None:
                task.cancel()
        for fine_tune_id in await asyncio.to_thread(self.leases.end_abandoned, now):
            log.warning("fine-tune ended: its replica is gone", extra={"fine_tune_id": fine_tune_id})
            self._announce("finetune.failed", await asyncio.to_thread(self.get, fine_tune_id))

    async def follow(self, every: float) -> None:
        """Looks at the shared store every ``every`` seconds until cancelled."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.look()
            except Exception:  # a database hiccup: the next look tries again
                log.exception("fine-tune leases not renewed")

    async def stop(self) -> None:
        """Stops every run of this process (at shutdown): they fail as interrupted."""
        self._stopping = True
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # The run

    async def _run(self, record: FineTuneRecord, spec: FineTuneSpec, source: Path) -> None:
        folder = self.driver.folder(record.fine_tune_id)
        try:
            async with self._slots:
                metrics = await self._train(record, spec, source, folder)
                self._save(record, status="registering")
                version = await self._register(record, spec, folder / "model", metrics)
            if self._save(record, status="succeeded", output_version=version, finished_at=time.time()):
                self._announce("finetune.completed", record)
        except asyncio.CancelledError:
            if self._stopping:
                ended = self._save(
                    record, status="failed", finished_at=time.time(), error="interrupted: the service stopped"
                )
            else:
                ended = self._save(record, status="cancelled", finished_at=time.time(), error="cancelled")
            if ended:  # else another replica ended it, and announced it
                self._announce("finetune.failed", record)
            raise
        except Exception as error:
            message = error.message if isinstance(error, MeshError) else f"{type(error).__name__}: {error}"
            log.warning("fine-tune failed", extra={"fine_tune_id": record.fine_tune_id, "error": message})
            if self._save(record, status="failed", finished_at=time.time(), error=message[:1000]):
                self._announce("finetune.failed", record)
        finally:
            self._tasks.pop(record.fine_tune_id, None)
            self.driver.release(folder)

    async def _train(
        self, record: FineTuneRecord, spec: FineTuneSpec, source: Path, folder: Path
    ) -> dict[str, Any]:
        staged = await asyncio.to_thread(self.driver.stage, source, folder)
        worker_spec = {
            "source": str(staged),
            "examples": [[{"role": r, "content": c} for r, c in turns] for turns in spec.examples],
            "config": spec.config.to_json(),
            "max_tokens": self.settings.max_example_tokens,
            "base_cache": str(self.driver.base_cache) if self.driver.base_cache else None,
            "base_cache_entries": self.settings.base_cache_entries,
        }
        (folder / "spec.json").write_text(json.dumps(worker_spec))
        metrics: dict[str, Any] | None = None
        failure = ""
        announced = 0.0
        async with contextlib.aclosing(self.driver.events(record.fine_tune_id, folder)) as events:
            async for event in events:
                kind = event.pop("event")
                if kind in ("loading", "saving"):
                    self._save(record, status="loading" if kind == "loading" else "training")
                elif kind in ("training", "progress", "eval"):
                    record.progress.update({k: v for k, v in event.items() if k != "epoch"})
                    self._save(record, status="training")
                    if kind == "eval" or time.monotonic() - announced >= PROGRESS_EVERY:
                        announced = time.monotonic()
                        self._announce("finetune.progress", record)
                elif kind == "done":
                    metrics = event["metrics"]
                elif kind == "error":
                    failure = event.get("message", "")
                elif kind == "exit":
                    failure = failure or exit_message(event)
        if metrics is None:
            raise RuntimeError(failure or "the training process ended without a result")
        return metrics

    async def _register(
        self, record: FineTuneRecord, spec: FineTuneSpec, model_dir: Path, metrics: dict[str, Any]
    ) -> str:
        archive = model_dir.parent / "model.tar"
        await asyncio.to_thread(_tar, model_dir, archive)
        labels = {
            "fine_tuned_from": spec.base_model,
            "dataset_sha256": spec.dataset_sha256,
            "fine_tune_id": record.fine_tune_id,
            "hyperparameters": json.dumps(spec.config.to_json(), sort_keys=True),
            "metrics": json.dumps(metrics, sort_keys=True),
        }
        header = registry_pb2.UploadHeader(
            name=spec.output_name,
            format=common_pb2.MODEL_FORMAT_TRANSFORMERS,
            filename="model.tar",
            labels=labels,
        )

        async def parts() -> AsyncIterator[registry_pb2.UploadModelRequest]:
            yield registry_pb2.UploadModelRequest(header=header)
            with archive.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield registry_pb2.UploadModelRequest(chunk=chunk)

        try:
            reply = await self.registry().UploadModel(parts(), timeout=600, metadata=call_metadata())
        except grpc.aio.AioRpcError as error:
            raise MeshError.from_rpc_error(error) from None
        record.progress["metrics"] = metrics
        return str(reply.model.version)

    # Records

    def _insert(self, record: FineTuneRecord) -> None:
        self.db.run(
            f"INSERT INTO fine_tunes ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.fine_tune_id,
                record.status,
                record.base_model,
                record.output_name,
                record.output_version,
                json.dumps(record.progress),
                record.dataset_sha256,
                json.dumps(record.config),
                record.created_at,
                record.finished_at,
                record.error,
            ),
        )

    def _save(self, record: FineTuneRecord, **changes: Any) -> bool:
        """Writes the run's changes, unless it has ended: an end is written once (another replica
        may have ended a run whose lease it saw run out). Whether it wrote them."""
        for name, value in changes.items():
            setattr(record, name, value)
        cursor = self.db.run(
            "UPDATE fine_tunes SET status = ?, output_version = ?, progress = ?, finished_at = ?, error = ?"
            " WHERE fine_tune_id = ? AND status NOT IN ('succeeded', 'failed', 'cancelled')",
            (
                record.status,
                record.output_version,
                json.dumps(record.progress),
                record.finished_at,
                record.error,
                record.fine_tune_id,
            ),
        )
        return bool(cursor.rowcount)

    def _announce(self, event: str, record: FineTuneRecord) -> None:
        data = asdict(record)
        callback = data["config"].pop("callback_url", "")
        self.hub.emit(event, data)
        if callback and event != "finetune.progress":
            self.hub.callback(callback, "", event, data)


def _tar(directory: Path, archive: Path) -> None:
    with tarfile.open(archive, "w") as tar:
        for path in sorted(directory.iterdir()):
            tar.add(path, arcname=path.name)
