"""Builds jobs and webhooks for the inference process: store, hub, manager, servicer, lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

from meshserve.v1 import jobs_pb2, jobs_pb2_grpc
from services.inference.jobs.events import EventedInferenceServicer
from services.inference.jobs.llm import LLMGenerator
from services.inference.jobs.manager import JobManager
from services.inference.jobs.servicer import JobServicer
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.store import JobStore
from services.inference.jobs.webhooks import WebhookHub

SERVICE_NAME = jobs_pb2.DESCRIPTOR.services_by_name["JobService"].full_name


@dataclass
class Jobs:
    """The jobs subsystem of one inference process."""

    store: JobStore
    hub: WebhookHub
    manager: JobManager
    servicer: JobServicer

    def add(self, server: grpc.aio.Server) -> None:
        """Registers JobService on the server."""
        jobs_pb2_grpc.add_JobServiceServicer_to_server(self.servicer, server)

    async def start(self) -> None:
        """Resumes unfinished jobs and starts the runners."""
        await self.manager.start()

    async def stop(self) -> None:
        """Stops the runners (running jobs resume at the next start), flushes deliveries, closes the store."""
        await self.manager.stop()
        await self.hub.close()
        self.store.close()


def build_jobs(root: Path, inference: EventedInferenceServicer, settings: JobSettings | None = None) -> Jobs:
    """Jobs stored under ``root``, generating through the inference servicer's text generation."""
    settings = settings or JobSettings()
    store = JobStore(root / "jobs.sqlite3")
    hub = WebhookHub(store, settings)
    inference.webhooks = hub
    generator = LLMGenerator(lambda: inference.generation)
    manager = JobManager(store, generator, hub, settings, validate_item=generator.validate)
    return Jobs(store, hub, manager, JobServicer(manager, hub, settings))
