"""gRPC face of the registry."""

from __future__ import annotations

import grpc

from meshserve.v1 import registry_pb2 as pb
from meshserve.v1 import registry_pb2_grpc as pb_grpc
from services.registry.converters import model_to_proto
from services.registry.store import ModelStore


class RegistryServicer(pb_grpc.RegistryServiceServicer):
    """Model metadata calls."""

    def __init__(self, store: ModelStore) -> None:
        self.store = store

    async def GetModel(
        self, request: pb.GetModelRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetModelResponse:
        """One model version."""
        record = self.store.get(request.ref.name, request.ref.version)
        return pb.GetModelResponse(model=model_to_proto(record))

    async def ListModels(
        self, request: pb.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListModelsResponse:
        """The newest version of every model."""
        return pb.ListModelsResponse(models=[model_to_proto(r) for r in self.store.list()])
