"""The inference service's side of the worker protocol: one Triton gRPC stream per generation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import numpy as np
import tritonclient.grpc as triton_grpc
from tritonclient.grpc.aio import InferenceServerClient
from tritonclient.utils import InferenceServerException

from services.common.errors import BackendUnavailable, InferenceFailed, MeshError, Reason
from services.inference.llm.outbox import is_final


def _request(model: str, body: dict[str, Any], request_id: str = "") -> dict[str, Any]:
    tensor = triton_grpc.InferInput("REQUEST", [1], "BYTES")
    tensor.set_data_from_numpy(np.array([json.dumps(body).encode()], dtype=np.object_))
    return {"model_name": model, "inputs": [tensor], "request_id": request_id}


def error_from_event(error: dict[str, Any]) -> MeshError:
    """The canonical error a worker event carries."""
    code = str(error.get("code", "INFERENCE_FAILED"))
    reason = (
        Reason.Value(f"REASON_{code}")
        if f"REASON_{code}" in Reason.keys()
        else Reason.REASON_INFERENCE_FAILED
    )
    return MeshError(
        str(error.get("message", "generation failed")), reason=reason, details=error.get("details") or {}
    )


async def stream_events(
    client: InferenceServerClient, model: str, body: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """Yields the worker's events for one request; leaving early cancels the Triton stream."""
    finished = asyncio.Event()

    async def requests() -> AsyncIterator[dict[str, Any]]:
        yield _request(model, body, str(body.get("id", "")))
        # Keep the write side open: a half-closed stream must not end before the last reply.
        await finished.wait()

    stream = client.stream_infer(requests())
    try:
        async for result, error in stream:
            if error is not None:
                raise _stream_error(error)
            event = json.loads(result.as_numpy("EVENT").reshape(-1)[0])
            if "error" in event:
                raise error_from_event(event["error"])
            yield event
            if is_final(event):
                return
        raise BackendUnavailable("the worker closed the generation stream early")
    except InferenceServerException as error:
        raise BackendUnavailable(f"generation worker unreachable: {error.message()}") from error
    except grpc.aio.AioRpcError as error:  # the stream broke under the client (the worker died)
        raise _stream_error(InferenceServerException(str(error.details()), str(error.code()))) from None
    finally:
        finished.set()
        stream.cancel()  # a caller that went away frees its slot on the worker at once


def _stream_error(error: InferenceServerException) -> MeshError:
    """A failed reply as the canonical error: the worker going away (its process killed, its
    connection reset) is UNAVAILABLE, which callers may retry; anything else failed the request."""
    if error.status() == str(grpc.StatusCode.UNAVAILABLE):
        return BackendUnavailable(
            f"the generation worker went away: {error.message()}",
            suggestion="retry: the model is placed again on a live worker",
            retry_after=1,
        )
    return InferenceFailed(f"worker failed the generation: {error.message()}")


async def fetch_stats(client: InferenceServerClient, model: str) -> dict[str, Any]:
    """The engine's counters (active and waiting sequences, slots, totals)."""
    async for event in stream_events(client, model, {"op": "stats"}):
        if "stats" in event:
            return dict(event["stats"])
    raise InferenceFailed("the worker sent no statistics")
