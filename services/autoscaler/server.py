"""Wires the autoscaler: settings, policy store, statistics source, driver, controller and servicer."""

from __future__ import annotations

from typing import Any, cast

from meshserve.v1 import autoscaler_pb2, autoscaler_pb2_grpc
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.autoscaler.controller import Autoscaler
from services.autoscaler.drivers import build_driver
from services.autoscaler.policies import Policy, PolicyStore
from services.autoscaler.pool_stats import PoolStatsSource
from services.autoscaler.servicer import AutoscalerServicer
from services.autoscaler.settings import AutoscalerSettings
from services.autoscaler.sources import Sampler
from services.autoscaler.timeseries import MetricsSeries
from services.common.clients import ChannelPool
from services.common.inference_endpoints import InferenceEndpoints
from services.common.pg_sqldb import open_database
from services.common.server import Registration, main

SERVICE_NAME = autoscaler_pb2.DESCRIPTOR.services_by_name["AutoscalerService"].full_name


class LazyStub:
    """The inference stub, made on first use: grpc.aio channels belong to the loop that creates them,
    and ``build`` runs before the server's loop starts."""

    def __init__(self, pool: ChannelPool) -> None:
        self.pool = pool
        self._stub: ipb_grpc.InferenceServiceStub | None = None

    def __getattr__(self, name: str) -> Any:
        if self._stub is None:
            self._stub = ipb_grpc.InferenceServiceStub(self.pool.channel("inference"))
        return getattr(self._stub, name)


def build(settings: AutoscalerSettings) -> Registration:
    """The autoscaler's registration."""
    pool = ChannelPool()
    # LazyStub forwards every attribute to the real stub, made on first use.
    stub = cast(ipb_grpc.InferenceServiceStub, LazyStub(pool))
    store = PolicyStore(
        open_database(settings.database_url, settings.db_file, "MESHSERVE_AUTOSCALER_DATABASE_URL")
    )
    if settings.default_pool_policy and store.find("*") is None:
        store.put(Policy(target="*"))  # a policy set since (and kept) wins over the default
    # Every inference endpoint discovery lists, summed: the autoscaler sees the whole pool.
    endpoints = InferenceEndpoints(pool.discovery)
    source = PoolStatsSource(endpoints, stub, settings.stats_timeout_seconds)
    autoscaler = Autoscaler(
        store,
        source,
        build_driver(settings, endpoints),
        period_seconds=settings.period_seconds,
        history_size=settings.history_size,
        window_seconds=settings.window_seconds,
        series=MetricsSeries(
            settings.metrics_period_seconds,
            settings.metrics_keep_seconds,
            settings.metrics_models_keep_seconds,
        ),
        sampler=Sampler(disk_path=settings.data_dir if settings.data_dir.exists() else "."),  # type: ignore[arg-type]
    )
    servicer = AutoscalerServicer(settings, store, autoscaler)

    async def on_start() -> None:
        autoscaler.start(control=settings.enabled, metrics_period=settings.metrics_period_seconds)

    async def on_stop() -> None:
        await autoscaler.stop()
        await source.close()
        await pool.close()
        store.db.close()

    return Registration(
        add=lambda server: autoscaler_pb2_grpc.add_AutoscalerServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
        on_start=on_start,
        on_stop=on_stop,
    )


def run() -> None:
    """Process entry point."""
    main("autoscaler", AutoscalerSettings, build)
