"""Wires the inference service."""

from __future__ import annotations

from meshserve.v1 import inference_pb2, inference_pb2_grpc
from services.common.server import Registration, main
from services.inference.servicer import InferenceServicer
from services.inference.settings import InferenceSettings

SERVICE_NAME = inference_pb2.DESCRIPTOR.services_by_name["InferenceService"].full_name


def build(settings: InferenceSettings) -> Registration:
    """The inference service's registration."""
    servicer = InferenceServicer()
    return Registration(
        add=lambda server: inference_pb2_grpc.add_InferenceServiceServicer_to_server(servicer, server),
        service_names=[SERVICE_NAME],
    )


def run() -> None:
    """Process entry point."""
    main("inference", InferenceSettings, build)
