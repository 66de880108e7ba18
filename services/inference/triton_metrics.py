"""Triton's own Prometheus metrics, re-exposed per worker by the inference service.

Each ``tritonserver`` serves its metrics on a private port (``--metrics-port``) that only the
inference service knows and that changes when a worker restarts. Rather than teach Prometheus every
worker, the inference service's own ``/metrics`` (``MESHSERVE_INFERENCE_METRICS_PORT``) scrapes each
ready worker at scrape time and re-exposes its families with a ``worker`` label added, next to
``meshserve_triton_worker_up{worker}`` (1 scraped, 0 failed). Families are parsed and re-emitted by
``prometheus_client``, so Triton's counters carry the ``_total`` suffix of the client's convention
(``nv_inference_request_success`` is served as ``nv_inference_request_success_total``); gauges,
histograms and summaries keep their names. No meshserve transport imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

#: (worker id, URL of its Triton /metrics) for every worker to scrape now.
Targets = Callable[[], list[tuple[str, str]]]


def relabel(text: str, worker_id: str, into: dict[str, Metric]) -> None:
    """Adds one worker's metrics (Prometheus text) to ``into``, each sample labelled ``worker``."""
    for family in text_string_to_metric_families(text):
        merged = into.get(family.name)
        if merged is None:
            merged = into[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
        for sample in family.samples:
            merged.samples.append(sample._replace(labels={**sample.labels, "worker": worker_id}))


class TritonMetricsCollector(Collector):
    """A ``prometheus_client`` collector that scrapes the workers when it is collected."""

    def __init__(self, targets: Targets, timeout: float = 1.0) -> None:
        self.targets = targets
        self.timeout = timeout

    def describe(self) -> list[Metric]:
        """Nothing up front: the families are whatever the workers report (no scrape at register)."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Every ready worker's families with its ``worker`` label, and whether each scrape worked."""
        families: dict[str, Metric] = {}
        up = GaugeMetricFamily(
            "meshserve_triton_worker_up",
            "Whether the worker's own Triton metrics endpoint answered this scrape",
            labels=["worker"],
        )
        # Runs in prometheus_client's HTTP thread, so a plain blocking client is right here.
        with httpx.Client(timeout=self.timeout) as client:
            for worker_id, url in self.targets():
                try:
                    reply = client.get(url)
                    reply.raise_for_status()
                    relabel(reply.text, worker_id, families)
                except (httpx.HTTPError, ValueError):  # a worker restarting, or text we cannot parse
                    up.add_metric([worker_id], 0.0)
                    continue
                up.add_metric([worker_id], 1.0)
        yield from families.values()
        yield up
