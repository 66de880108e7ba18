"""Wires the inference service: settings, worker pool, registry catalog, the generation pipeline,
jobs, and the gRPC faces composed into InferenceService.

Workers start in the background once the gRPC server serves, so the mesh starts fast; requests
that arrive before a worker is ready wait for one (``worker_wait_seconds``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import grpc
from prometheus_client import REGISTRY

from meshserve.v1 import (
    experiments_pb2,
    experiments_pb2_grpc,
    finetune_pb2,
    finetune_pb2_grpc,
    inference_pb2,
    inference_pb2_grpc,
    metering_pb2_grpc,
    registry_pb2_grpc,
)
from services.common.clients import ChannelPool
from services.common.metering import Meter
from services.common.postgres import probe
from services.common.server import Registration, main
from services.common.servicers import compose
from services.inference.advanced.cache import ResponseCache
from services.inference.advanced.servicer import AdvancedServicer
from services.inference.advanced.shared_cache import RedisResponseCache
from services.inference.catalog import RegistryCatalog
from services.inference.conversation_servicer import ConversationServicer
from services.inference.conversations import Conversations, ConversationStore
from services.inference.deleted_models import DeletedModelSweep
from services.inference.experiments.router import ExperimentRouter
from services.inference.experiments.service import Experiments
from services.inference.experiments.servicer import ExperimentServicer
from services.inference.experiments.store import ExperimentStore
from services.inference.finetune.drivers import LocalDriver
from services.inference.finetune.kubernetes import KubernetesDriver
from services.inference.finetune.leases import RunLeases
from services.inference.finetune.runs import FineTuneRuns
from services.inference.finetune.servicer import FineTuneServicer
from services.inference.finetune.spec import FineTuneSettings
from services.inference.generation import GenerationServicer
from services.inference.jobs.pg_store import open_job_store
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.webhooks import WebhookHub
from services.inference.jobs.wiring import SERVICE_NAME as JOBS_SERVICE_NAME
from services.inference.jobs.wiring import build_jobs
from services.inference.llm.pipeline import GenerationPipeline
from services.inference.llm.placement import PoolLLMPlacer
from services.inference.llm.service import GenerationService
from services.inference.llm.settings import GenerationSettings
from services.inference.metering.alerts import budget_alert_announcer
from services.inference.metering.allowance import AllowanceGate
from services.inference.metering.plan_book import PlanBook
from services.inference.plugins.manager import PluginManager
from services.inference.plugins.servicer import PluginServicer
from services.inference.pool import WorkerPool
from services.inference.predictor import Predictor
from services.inference.priority import TRITON_PRIORITY_LEVELS
from services.inference.replicas import InferenceReplicas
from services.inference.repository import Batching
from services.inference.servicer import InferenceServicer
from services.inference.settings import InferenceSettings
from services.inference.stored_generations import StoredGenerations, StoredGenerationStore
from services.inference.triton_metrics import TritonMetricsCollector

SERVICE = inference_pb2.DESCRIPTOR.services_by_name["InferenceService"]
SERVICE_NAME = SERVICE.full_name
EXPERIMENTS_SERVICE_NAME = experiments_pb2.DESCRIPTOR.services_by_name["ExperimentService"].full_name
FINETUNE_SERVICE_NAME = finetune_pb2.DESCRIPTOR.services_by_name["FineTuneService"].full_name

log = logging.getLogger("meshserve.inference")


def build(settings: InferenceSettings) -> Registration:
    """The inference service's registration."""
    root = settings.data_dir.resolve() / "inference"
    pool = WorkerPool(
        root / "triton",
        settings.workers,
        max_workers=settings.max_workers,
        model_threads=settings.model_threads,
        start_timeout=settings.worker_start_timeout_seconds,
        wait_timeout=settings.worker_wait_seconds,
        utilization_window=settings.utilization_window_seconds,
        memory_budget_bytes=settings.memory_budget_mb * 2**20,
    )
    channels = ChannelPool()
    catalog = RegistryCatalog(channels, root / "artifacts", stale_seconds=settings.registry_stale_seconds)
    batching = Batching(
        max_batch_size=settings.max_batch_size,
        preferred_batch_sizes=tuple(settings.preferred_batch_sizes),
        max_queue_delay_microseconds=settings.max_queue_delay_microseconds,
        max_queue_size=settings.triton_max_queue_size,
        queue_timeout_microseconds=int(settings.request_timeout_seconds * 1_000_000),
        priority_levels=TRITON_PRIORITY_LEVELS if settings.triton_priority else 0,
    )
    job_settings = JobSettings()
    store = open_job_store(settings.database_url, root / "jobs.sqlite3")
    webhooks = WebhookHub(store, job_settings)
    generation_settings = GenerationSettings()
    generation = GenerationService(generation_settings, PoolLLMPlacer(pool, generation_settings), catalog)
    cache = RedisResponseCache(settings.redis_url) if settings.redis_url else ResponseCache()
    plugins = PluginManager(store=store)
    router = ExperimentRouter(ExperimentStore(store), refresh_seconds=job_settings.poll_seconds * 2)
    meter = Meter(
        lambda: metering_pb2_grpc.MeteringServiceStub(channels.channel("auth")),
        flush_seconds=settings.metering_flush_seconds,
        batch_size=settings.metering_batch_size,
        queue_size=settings.metering_queue_size,
        on_alert=budget_alert_announcer(webhooks),
    )
    allowances = AllowanceGate(meter.stub, meter) if settings.metering_enabled else None
    plans = PlanBook(meter.stub, refresh_seconds=10.0)  # queue priorities as admins set them
    pipeline = GenerationPipeline(generation, plugins, cache, webhooks, router, allowances)
    experiments = ExperimentServicer(
        Experiments(router.store, router, generation.catalog.resolve)
    )  # 003's A/B
    tuning_settings = FineTuneSettings()
    # The registry's stub is made on first use: a channel belongs to the event loop it is made on.
    tuning = FineTuneRuns(
        store,
        generation.catalog,
        lambda: registry_stub(channels),
        webhooks,
        tuning_settings,
        KubernetesDriver(tuning_settings)
        if tuning_settings.driver == "kubernetes"
        else LocalDriver(root / "finetune-bases"),
        RunLeases(store, job_settings.lease_seconds),
    )
    jobs = build_jobs(store, webhooks, pipeline, job_settings)  # JobService: 003's asynchronous jobs
    predictor = Predictor(pool, catalog, batching, settings.default_device, settings.max_in_flight_per_model)
    sweep = DeletedModelSweep(predictor, generation, catalog, settings.deleted_model_sweep_seconds)
    replicas = InferenceReplicas(channels.discovery, settings.host, settings.port)
    tensors = InferenceServicer(
        pool,
        predictor,
        generation,
        settings.request_timeout_seconds,
        webhooks,
        meter if settings.metering_enabled else None,
        replicas,
    )
    kept = StoredGenerationStore(store, settings.stored_generation_days * 86400)
    conversations = Conversations(ConversationStore(store))  # the Responses API's state
    servicer = compose(
        SERVICE,
        tensors,
        GenerationServicer(pipeline, StoredGenerations(kept, conversations)),
        ConversationServicer(conversations),
        PluginServicer(pipeline.plugins),
        AdvancedServicer(pipeline, pool.stats, settings.benchmark_budget_seconds),
    )

    # Triton's own metrics join this process's /metrics (metrics_port), labelled by worker.
    triton_metrics = TritonMetricsCollector(pool.metrics_targets)

    followers: list[asyncio.Task[None]] = []

    async def follow_plugins() -> None:
        """Applies plugin changes made through other replicas (shared store only)."""
        while True:
            await asyncio.sleep(job_settings.poll_seconds)
            try:
                plugins.apply(await asyncio.to_thread(store.plugin_configs))
            except Exception:  # a database hiccup: the next round tries again
                log.exception("plugin configuration not read")

    async def on_start() -> None:
        REGISTRY.register(triton_metrics)
        plugins.sync()  # what this replica (or another) configured before it started
        if tuning.recover():
            log.warning("fine-tunes interrupted by the last stop are marked failed")
        if store.shared:
            followers.append(asyncio.create_task(follow_plugins(), name="plugins-follower"))
        # Renewed on a private store too: a lease that no one renews would read as a gone replica.
        followers.append(
            asyncio.create_task(tuning.follow(job_settings.poll_seconds), name="fine-tune-leases")
        )
        if sweep.period:
            followers.append(asyncio.create_task(sweep.run(), name="deleted-model-sweep"))
        meter.start()
        plans.start()
        await pool.start()
        await jobs.start()
        if pool.target == 0:
            log.info("language model preload skipped: the worker pool starts with no workers")
        else:
            generation.start_preload()  # the default language model, in the background

    async def on_stop() -> None:
        for task in followers:
            task.cancel()
        await tuning.stop()
        await jobs.stop()
        await meter.stop()  # after the jobs: their last generations are metered too
        await plans.stop()
        await router.drain()
        with contextlib.suppress(KeyError):
            REGISTRY.unregister(triton_metrics)
        await generation.stop_preload()
        await pool.close()
        await replicas.close()
        await channels.close()
        await cache.close()

    async def ready() -> bool:
        # Ready: the job store answers a trivial query, and a Triton worker serves (or none is asked
        # for). The language model may still be loading: generations wait for it.
        await asyncio.to_thread(store.run, "SELECT 1")
        return pool.target == 0 or bool(pool.ready_workers())

    def add(server: grpc.aio.Server) -> None:
        inference_pb2_grpc.add_InferenceServiceServicer_to_server(servicer, server)
        jobs.add(server)
        experiments_pb2_grpc.add_ExperimentServiceServicer_to_server(experiments, server)
        finetune_pb2_grpc.add_FineTuneServiceServicer_to_server(
            FineTuneServicer(tuning, tuning_settings), server
        )

    return Registration(
        add=add,
        service_names=[SERVICE_NAME, JOBS_SERVICE_NAME, EXPERIMENTS_SERVICE_NAME, FINETUNE_SERVICE_NAME],
        on_start=on_start,
        on_stop=on_stop,
        on_drain=tensors.draining.set,  # batch streams end, so their clients go elsewhere
        ready=ready,
    )


def prepare(settings: InferenceSettings) -> None:
    """Waits for a PostgreSQL database to accept connections (nothing to wait for with SQLite)."""
    probe(settings.database_url, "MESHSERVE_INFERENCE_DATABASE_URL")


def registry_stub(channels: ChannelPool) -> registry_pb2_grpc.RegistryServiceStub:
    """The registry's stub over the pooled channel."""
    return registry_pb2_grpc.RegistryServiceStub(channels.channel("registry"))


def run() -> None:
    """Process entry point."""
    main("inference", InferenceSettings, build, prepare)
