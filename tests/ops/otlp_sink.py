"""An OTLP/gRPC trace receiver for tests: the mesh's processes export to it like to a collector."""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as tpb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as tpb_grpc


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, flattened."""

    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    kind: int


class OtlpSink(tpb_grpc.TraceServiceServicer):
    """Keeps every span it receives."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.changed = threading.Condition()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        tpb_grpc.add_TraceServiceServicer_to_server(self, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    def Export(
        self, request: tpb.ExportTraceServiceRequest, context: grpc.ServicerContext
    ) -> tpb.ExportTraceServiceResponse:
        for resource_spans in request.resource_spans:
            attrs = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received = ReceivedSpan(
                        service=attrs.get("service.name", ""),
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                        kind=span.kind,
                    )
                    with self.changed:
                        self.spans.append(received)
                        self.changed.notify_all()
        return tpb.ExportTraceServiceResponse()

    def wait_for(self, predicate, timeout: float = 20.0) -> list[ReceivedSpan]:  # type: ignore[no-untyped-def]
        """Waits until ``predicate(spans)`` is truthy; returns the spans."""
        with self.changed:
            self.changed.wait_for(lambda: predicate(self.spans), timeout)
            return list(self.spans)

    def __enter__(self) -> OtlpSink:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop(0)
