"""Text generation (``InferenceService.Generate``): a mixin of the inference servicer.

Kept apart from tensor prediction so each evolves on its own; the servicer composes both.
"""

from __future__ import annotations

from meshserve.v1 import inference_pb2_grpc as pb_grpc


class GenerationMixin(pb_grpc.InferenceServiceServicer):
    """Generate, streamed token by token (UNIMPLEMENTED until the LLM engine lands)."""
