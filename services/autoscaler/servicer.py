"""gRPC face of the autoscaler: translates messages to and from the policy store and the controller."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import grpc

from meshserve.v1 import autoscaler_pb2 as pb
from meshserve.v1 import autoscaler_pb2_grpc as pb_grpc
from services.autoscaler.controller import Autoscaler, Decision, rfc3339
from services.autoscaler.policies import Policy, PolicyStore
from services.autoscaler.settings import AutoscalerSettings
from services.autoscaler.timeseries import Sample
from services.common.messages import message_from


def policy_from_proto(message: pb.Policy) -> Policy:
    """A policy from its message; unset numeric fields keep the defaults."""
    defaults = Policy(target=message.target)
    values = {
        f.name: getattr(message, f.name) or getattr(defaults, f.name) for f in dataclasses.fields(Policy)
    }
    # min_replicas 0 is meaningful (scale to zero), so it is taken as sent.
    values["min_replicas"] = message.min_replicas
    return Policy(**values)


def policy_to_proto(policy: Policy) -> pb.Policy:
    """A policy as its message."""
    return message_from(pb.Policy, policy)


def decision_to_proto(decision: Decision) -> pb.Decision:
    """A decision as its message."""
    return message_from(pb.Decision, decision)


def sample_to_proto(sample: Sample) -> pb.MetricsSample:
    """A time-series point as its message (unknown request fields become 0 with the flag unset)."""
    values = {
        name: getattr(sample, name) or 0
        for name in (
            "cpu_usage",
            "memory_usage",
            "disk_usage",
            "network_rx",
            "network_tx",
            "request_rate",
            "response_time",
            "error_rate",
            "tokens_per_second",
            "completed_per_second",
            "failed_per_second",
            "latency_p50_ms",
            "latency_p95_ms",
            "latency_p99_ms",
        )
    }
    return pb.MetricsSample(
        time=rfc3339(sample.at),
        active_requests=round(sample.active_requests or 0),
        queue_depth=round(sample.queue_depth or 0),
        workers=round(sample.workers or 0),
        gpu_utilization=list(sample.gpu_utilization),
        gpu_memory=list(sample.gpu_memory),
        samples=sample.samples,
        has_inference_stats=sample.has_inference_stats,
        models=[pb.ModelSample(**dataclasses.asdict(m)) for m in sample.models],
        **values,
    )


@dataclasses.dataclass(eq=False)
class AutoscalerServicer(pb_grpc.AutoscalerServiceServicer):
    """Policy CRUD, manual scaling, statistics, decision watch and the metrics series."""

    settings: AutoscalerSettings
    store: PolicyStore
    autoscaler: Autoscaler

    async def PutPolicy(
        self, request: pb.PutPolicyRequest, context: grpc.aio.ServicerContext
    ) -> pb.PutPolicyResponse:
        """Creates or replaces a policy."""
        stored = self.store.put(policy_from_proto(request.policy))
        return pb.PutPolicyResponse(policy=policy_to_proto(stored))

    async def GetPolicy(
        self, request: pb.GetPolicyRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPolicyResponse:
        """Returns one policy."""
        return pb.GetPolicyResponse(policy=policy_to_proto(self.store.get(request.target)))

    async def ListPolicies(
        self, request: pb.ListPoliciesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPoliciesResponse:
        """Lists policies."""
        return pb.ListPoliciesResponse(policies=[policy_to_proto(p) for p in self.store.all()])

    async def DeletePolicy(
        self, request: pb.DeletePolicyRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeletePolicyResponse:
        """Deletes one policy."""
        self.store.delete(request.target)
        return pb.DeletePolicyResponse()

    async def Scale(self, request: pb.ScaleRequest, context: grpc.aio.ServicerContext) -> pb.ScaleResponse:
        """Scales by hand within the policy bounds."""
        decision = await self.autoscaler.scale(request.target, request.replicas, request.reason)
        return pb.ScaleResponse(decision=decision_to_proto(decision))

    async def GetAutoscalerStats(
        self, request: pb.GetAutoscalerStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAutoscalerStatsResponse:
        """Reports the control loop's state, targets and recent decisions."""
        scaler = self.autoscaler
        targets = []
        for policy in self.store.all():
            status = scaler.status.get(policy.target)
            targets.append(
                pb.TargetState(
                    target=policy.target,
                    target_metric=policy.target_metric,
                    replicas=status.replicas if status else 0,
                    metric_value=status.metric_value if status else 0.0,
                    desired_replicas=status.desired if status else 0,
                    last_reason=status.reason if status else "not evaluated yet",
                    last_scale_time=status.last_scale_time if status else "",
                    inputs=status.inputs if status else {},
                )
            )
        return pb.GetAutoscalerStatsResponse(
            running=scaler.running,
            driver=scaler.driver.name,
            period_seconds=scaler.period,
            targets=targets,
            recent_decisions=[decision_to_proto(d) for d in scaler.decisions],
            evaluations=scaler.evaluations,
            last_evaluation_time=scaler.last_evaluation,
            last_error=scaler.last_error,
            decisions_total=scaler.decisions_total,
        )

    async def WatchDecisions(
        self, request: pb.WatchDecisionsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WatchDecisionsResponse]:
        """Streams decisions as they are made until the caller goes away; the initial metadata goes
        out once subscribed, so a caller that waits for it misses no later decision."""
        with self.autoscaler.watching(request.target) as decisions:
            await context.send_initial_metadata(())
            async for decision in decisions:
                yield pb.WatchDecisionsResponse(decision=decision_to_proto(decision))

    async def GetMetricsHistory(
        self, request: pb.GetMetricsHistoryRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetMetricsHistoryResponse:
        """The metrics time series over a timeframe, raw or bucketed."""
        series = self.autoscaler.series
        points = series.query(request.timeframe_seconds or 3600.0, request.granularity_seconds)
        latest = series.latest
        return pb.GetMetricsHistoryResponse(
            points=[sample_to_proto(p) for p in points],
            latest=sample_to_proto(latest) if latest is not None else None,
            period_seconds=self.settings.metrics_period_seconds,
            samples_kept=len(series.samples),
        )
