"""The inference service's side of the worker protocol: one Triton gRPC stream per generation."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

import grpc
import numpy as np
import tritonclient.grpc as triton_grpc
from tritonclient.grpc.aio import InferenceServerClient
from tritonclient.utils import InferenceServerException

from services.common.errors import BackendUnavailable, InferenceFailed, MeshError, Reason
from services.inference.llm.outbox import is_final

log = logging.getLogger("meshserve.llm.client")

#: How long an abandoned generation waits for the worker to report what the sequence cost. The
#: ``cancel`` op has already dropped the sequence at the engine's next step, so the wait holds no
#: slot, only this coroutine: it is usually one step (tens of milliseconds), but a step with every
#: slot busy on two loaded cores once took longer than half a second, and the sequence was billed
#: for the text it had sent rather than what it generated. The bound is for a worker that stopped
#: answering; past it the Triton stream is cancelled and the text events are billed (a warning
#: says so).
CANCEL_WAIT_SECONDS = 5.0

#: How long a generation that ended waits for Triton to close its stream before cancelling it. A
#: stream that ended is closed, not cancelled: the LM worker's ``tritonserver`` gained about 4 KiB of
#: private memory per cancelled stream (16-20 MiB over the 10-minute soak's 5,000 chats).
CLOSE_WAIT_SECONDS = 1.0


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
    client: InferenceServerClient,
    model: str,
    body: dict[str, Any],
    on_end: Callable[[dict[str, Any]], None] | None = None,
) -> AsyncGenerator[dict[str, Any], None]:
    """Yields the worker's events for one request.

    Leaving early asks the worker to drop the sequence (``{"op": "cancel"}`` on the same stream) and
    waits, at most :data:`CANCEL_WAIT_SECONDS`, for its last event, so ``on_end`` hears the usage of
    what the engine did generate; then the Triton stream is cancelled, which frees the slot in any
    case. A stream whose sequence ended is closed instead (the request side half-closes and Triton
    ends the call), off the caller's path. ``on_end`` gets the final event's ``usage`` (finished or
    cancelled); a request the worker failed, a broken stream, or a worker that did not answer the
    cancel in time is billed at once for the text events it sent.
    Replies are read by a task of their own: a caller cancelled while waiting must not break the
    stream it still has to read the last event from.
    """
    finished = asyncio.Event()
    cancel = asyncio.Event()
    request_id = str(body.get("id", ""))

    async def requests() -> AsyncIterator[dict[str, Any]]:
        yield _request(model, body, request_id)
        # Keep the write side open: a half-closed stream must not end before the last reply.
        await cancel.wait()
        if not finished.is_set():
            yield _request(model, {"op": "cancel", "id": request_id}, f"{request_id}:cancel")
            await finished.wait()

    stream = client.stream_infer(requests())
    replies: asyncio.Queue[Any] = asyncio.Queue()
    reader = asyncio.ensure_future(_read_replies(stream, replies))
    ended = False  # the worker sent the final event
    broken = False  # the worker failed the request or the stream broke: nothing more will come
    pieces = 0
    try:
        while True:
            reply = await replies.get()
            broken = reply is None or isinstance(reply, BaseException)
            if isinstance(reply, BaseException):
                raise reply
            if reply is None:
                raise BackendUnavailable("the worker closed the generation stream early")
            event = _event_of(reply)
            if "error" in event:
                broken = True
                raise error_from_event(event["error"])
            if is_final(event):
                ended = True
                if on_end is not None:
                    on_end(dict(event.get("usage") or {}))
            elif event.get("text"):
                pieces += 1
            yield event
            if ended:
                return
    finally:
        if not ended and on_end is not None and request_id:
            usage: dict[str, Any] = {}
            if not broken:  # the caller left: the worker reports what the dropped sequence cost
                cancel.set()
                usage = await _usage_on_cancel(replies, request_id)
                ended = bool(usage)
            if not usage:  # the worker did not say: at least the pieces of text it sent
                log.warning("usage of an unfinished generation unknown: counting its text events")
                usage = {"completion_tokens": pieces}
            on_end(usage)
        finished.set()
        cancel.set()  # the request stream ends: a half-close
        if ended:  # Triton ends the call itself once its last reply is out
            closing = asyncio.ensure_future(_close(stream, reader))
            _CLOSING.add(closing)
            closing.add_done_callback(_CLOSING.discard)
        else:
            stream.cancel()  # frees the slot on the worker at once, whatever happened above
            reader.cancel()


#: Streams whose generation ended, waiting for Triton to close them (held so they are not collected).
_CLOSING: set[asyncio.Future[None]] = set()


async def _close(stream: Any, reader: asyncio.Future[None]) -> None:
    """Waits, off the caller's path, for Triton to end a stream whose last reply is out; cancels it
    past :data:`CLOSE_WAIT_SECONDS`."""
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reader), CLOSE_WAIT_SECONDS)
    finally:
        stream.cancel()
        reader.cancel()


async def _read_replies(stream: Any, replies: asyncio.Queue[Any]) -> None:
    """Moves a Triton stream's replies into a queue: each reply, then None at the end, or the
    canonical error that broke it."""
    try:
        async for result, error in stream:
            replies.put_nowait(_stream_error(error) if error is not None else result)
        replies.put_nowait(None)
    except InferenceServerException as error:
        replies.put_nowait(BackendUnavailable(f"generation worker unreachable: {error.message()}"))
    except grpc.aio.AioRpcError as error:  # the stream broke under the client (the worker died)
        replies.put_nowait(_stream_error(InferenceServerException(str(error.details()), str(error.code()))))


def _event_of(result: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(result.as_numpy("EVENT").reshape(-1)[0])
    return event


async def _usage_on_cancel(replies: asyncio.Queue[Any], request_id: str) -> dict[str, Any]:
    """The usage the last event of a sequence being dropped reports ({} when the worker does not
    answer in time or the stream broke)."""

    async def last_usage() -> dict[str, Any]:
        while True:
            reply = await replies.get()
            if reply is None or isinstance(reply, BaseException):
                return {}
            if reply.get_response().id != request_id:
                continue  # the cancel's own acknowledgement
            event = _event_of(reply)
            if is_final(event):
                return dict(event.get("usage") or {})

    try:
        return await asyncio.wait_for(last_usage(), CANCEL_WAIT_SECONDS)
    except (TimeoutError, asyncio.CancelledError):
        return {}


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
