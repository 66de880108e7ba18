"""gRPC face of the autoscaler: translates messages to and from the policy store."""

from __future__ import annotations

import dataclasses

import grpc

from meshserve.v1 import autoscaler_pb2 as pb
from meshserve.v1 import autoscaler_pb2_grpc as pb_grpc
from services.autoscaler.policies import Policy, PolicyStore
from services.autoscaler.settings import AutoscalerSettings


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
    return pb.Policy(**dataclasses.asdict(policy))


class AutoscalerServicer(pb_grpc.AutoscalerServiceServicer):
    """Policy CRUD and statistics."""

    def __init__(self, settings: AutoscalerSettings, store: PolicyStore) -> None:
        self.settings = settings
        self.store = store
        self.evaluations = 0

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

    async def GetAutoscalerStats(
        self, request: pb.GetAutoscalerStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAutoscalerStatsResponse:
        """Reports the control loop's state."""
        return pb.GetAutoscalerStatsResponse(
            running=True,
            driver=self.settings.driver,
            period_seconds=self.settings.period_seconds,
            evaluations=self.evaluations,
        )
