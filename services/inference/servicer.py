"""gRPC face of the inference service."""

from __future__ import annotations

import asyncio

import grpc

from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from services.inference.devices import machine_facts
from services.inference.generation import GenerationMixin


class InferenceServicer(GenerationMixin, pb_grpc.InferenceServiceServicer):
    """Worker control plane and data path."""

    async def GetDeviceInfo(
        self, request: pb.GetDeviceInfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetDeviceInfoResponse:
        """Devices as measured on this machine."""
        facts = await asyncio.to_thread(machine_facts)
        devices = [
            pb.Device(
                id=d.id,
                name=d.name,
                memory_total_bytes=d.memory_total_bytes,
                memory_used_bytes=d.memory_used_bytes,
                utilization_percent=d.utilization_percent,
                compute_capability=d.compute_capability,
                temperature_celsius=d.temperature_celsius,
            )
            for d in facts.devices
        ]
        return pb.GetDeviceInfoResponse(
            cuda_available=facts.cuda_available, devices=devices, summary=facts.summary
        )
