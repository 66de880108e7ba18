"""The predictions of one ``PredictBatch`` call, sent to Triton together.

Each item of a batch runs in a task of its own, in its own call context, and prepares on its own
(:meth:`Predictor.prepare`: model, placement, inputs), so its errors are its own. Then it waits
until every item has prepared or failed. The prepared items of one model with one input signature
(:func:`joint_key`) then run as one Triton request, their rows concatenated and the outputs split
back (:meth:`Predictor.run_together`); the others, and the items of a joint request that failed, run
as requests of their own in their own tasks, so each gets exactly the outcome it would have had.

Why: Triton answers one request of 16 rows in about the time of one request of one row, where 16
requests of one row each take two to three times as long (2.6 against 6.7 ms for the benchmark's
small model here), and each request costs the inference service an HTTP exchange.

:class:`ConcurrentPredictions` does the same across calls, for ``Predict`` calls of their own (a
gRPC client's, or the gateway's lone predictions): at most :data:`CALLS_PER_SIGNATURE` Triton
requests of one model and input signature run at once, and the predictions that arrive meanwhile go
together in the next, when one ends. A lone prediction is sent at once; nothing waits for a batch to
fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextvars import Context

from services.common.errors import DeadlineExceeded, InferenceFailed, InvalidInput, MeshError
from services.inference.predictor import PredictCall, Prediction, Predictor, Prepared

log = logging.getLogger("meshserve.inference.joined")

#: Triton requests of one model and input signature that :class:`ConcurrentPredictions` keeps in
#: flight: one runs while the next is sent, as the gateway keeps two calls.
CALLS_PER_SIGNATURE = 2


def joint_key(prepared: Prepared) -> Hashable | None:
    """What requests must share to run as one: the model placement, the inputs' names, datatypes
    and shapes after the batch dimension, the outputs, the priority level; None for a request
    that cannot join another (a model Triton does not batch, or text tensors, whose rows are not
    fixed-size runs of bytes)."""
    if not prepared.batched or any(t.datatype == "BYTES" for t in prepared.tensors):
        return None
    if any(spec.get("datatype") == "BYTES" for spec in prepared.entry.spec.outputs):
        return None
    signature = tuple((t.name, t.datatype, t.shape[1:]) for t in prepared.tensors)
    return (prepared.placement.name, signature, tuple(prepared.returned), prepared.priority)


class _Waiting:
    """A prepared item and the future its joint outcome comes through (None: run on your own)."""

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.outcome: asyncio.Future[Prediction | None] = asyncio.get_running_loop().create_future()


class JoinedPredictions:
    """One batch's items: :meth:`predict` prepares and runs each of them (:meth:`Predictor.prepare`,
    then :meth:`Predictor.run` or :meth:`Predictor.run_together`)."""

    def __init__(self, predictor: Predictor, items: int) -> None:
        self.predictor = predictor
        self.unprepared = items
        self.prepared: list[_Waiting] = []
        self.running: set[asyncio.Task[None]] = set()

    @contextlib.contextmanager
    def item(self) -> Iterator[Callable[[PredictCall], Awaitable[Prediction]]]:
        """One item's :meth:`predict`; an item that ends without calling it (its request failed
        before, a tensor that does not fill its shape) is counted out on leaving, so the others do
        not wait for it."""
        called = False

        async def predict(call: PredictCall) -> Prediction:
            nonlocal called
            called = True
            return await self.predict(call)

        try:
            yield predict
        finally:
            if not called:
                self._one_prepared(None)

    async def predict(self, call: PredictCall) -> Prediction:
        """One item's prediction, run jointly with the batch's others where they can join."""
        try:
            prepared = await self.predictor.prepare(call)
        except BaseException:
            self._one_prepared(None)
            raise
        waiting = _Waiting(prepared)
        self._one_prepared(waiting)
        try:
            async with asyncio.timeout(call.timeout):
                joint = await waiting.outcome
        except TimeoutError:
            raise DeadlineExceeded("the model did not answer in time", details={"model": call.name}) from None
        if joint is not None:
            return joint
        return await self.predictor.run(prepared)

    def _one_prepared(self, waiting: _Waiting | None) -> None:
        if waiting is not None:
            self.prepared.append(waiting)
        self.unprepared -= 1
        if self.unprepared:
            return
        groups: dict[Hashable, list[_Waiting]] = {}
        for item in self.prepared:
            key = joint_key(item.prepared)
            if key is None:
                item.outcome.set_result(None)
            else:
                groups.setdefault(key, []).append(item)
        for group in groups.values():
            for chunk in _chunks(group):
                if len(chunk) == 1:
                    chunk[0].outcome.set_result(None)
                    continue
                task = asyncio.get_running_loop().create_task(
                    _settle(self.predictor, chunk), context=Context()
                )
                self.running.add(task)  # held until done: the loop keeps only a weak reference
                task.add_done_callback(self.running.discard)


class ConcurrentPredictions:
    """``Predict`` calls of one model and input signature joined into one Triton request while
    :data:`CALLS_PER_SIGNATURE` of theirs run: :meth:`predict` prepares and runs one."""

    def __init__(self, predictor: Predictor, calls: int = CALLS_PER_SIGNATURE) -> None:
        self.predictor = predictor
        self.calls = calls
        self.in_flight: dict[Hashable, int] = {}
        self.queues: dict[Hashable, list[_Waiting]] = {}
        self.running: set[asyncio.Task[None]] = set()

    async def predict(self, call: PredictCall) -> Prediction:
        """One prediction: sent at once while a Triton request of its signature is free, else
        with the others that queued meanwhile."""
        prepared = await self.predictor.prepare(call)
        key = joint_key(prepared)
        if key is None:
            return await self.predictor.run(prepared)
        queue = self.queues.setdefault(key, [])
        if self.in_flight.get(key, 0) < self.calls and not queue:
            self.in_flight[key] = self.in_flight.get(key, 0) + 1
            try:
                return await self.predictor.run(prepared)
            finally:
                self._ended(key)
        waiting = _Waiting(prepared)
        queue.append(waiting)
        try:  # a caller that leaves, or whose deadline passes, cancels its future: it is skipped
            async with asyncio.timeout(call.timeout):
                joint = await waiting.outcome
        except TimeoutError:
            raise DeadlineExceeded("the model did not answer in time", details={"model": call.name}) from None
        return joint if joint is not None else await self.predictor.run(prepared)

    def _ended(self, key: Hashable) -> None:
        """One Triton request of ``key`` ended: what queued meanwhile goes next."""
        self.in_flight[key] -= 1
        queue = self.queues.get(key, [])
        while queue and self.in_flight[key] < self.calls:
            live = [w for w in queue if not w.outcome.done()]
            queue.clear()
            if not live:
                break
            first, *rest = _chunks(live)
            queue.extend(w for chunk in rest for w in chunk)
            self.in_flight[key] += 1
            # In a context of its own: the joint request is none of its callers' (each carries its own).
            task = asyncio.get_running_loop().create_task(self._run(key, first), context=Context())
            self.running.add(task)  # held until done: the loop keeps only a weak reference
            task.add_done_callback(self.running.discard)
        if not self.in_flight[key] and not queue:  # forget idle signatures
            del self.in_flight[key]
            self.queues.pop(key, None)

    async def _run(self, key: Hashable, chunk: list[_Waiting]) -> None:
        try:
            await _settle(self.predictor, chunk)
        finally:
            self._ended(key)


async def _settle(predictor: Predictor, chunk: list[_Waiting]) -> None:
    """Runs a chunk as one Triton request and gives each item its outcome: its prediction; the
    error of the model or the worker, which is every item's; or None, to run on its own, where the
    joint request failed on data that may be one item's."""
    predictions: list[Prediction] | list[None]
    try:
        predictions = await predictor.run_together([w.prepared for w in chunk])
    except (InvalidInput, InferenceFailed) as error:
        if len(chunk) == 1:  # its own error: running it again alone would only repeat it
            _fail(chunk, error)
            return
        log.info("joint request failed; its items run alone", extra={"error": error.message})
        predictions = [None] * len(chunk)
    except MeshError as error:  # the model's or the worker's, so every item's (at capacity, …)
        _fail(chunk, error)
        return
    except Exception:
        log.exception("joint request failed; its items run alone")
        predictions = [None] * len(chunk)
    for waiting, prediction in zip(chunk, predictions, strict=True):
        if not waiting.outcome.done():
            waiting.outcome.set_result(prediction)


def _fail(chunk: list[_Waiting], error: MeshError) -> None:
    for waiting in chunk:
        if not waiting.outcome.done():
            waiting.outcome.set_exception(error)


def _chunks(group: list[_Waiting]) -> list[list[_Waiting]]:
    """Consecutive runs of a group whose rows together fit the model's max batch size."""
    limit = group[0].prepared.placement.batching.max_batch_size
    chunks: list[list[_Waiting]] = []
    rows = 0
    for item in group:
        if chunks and rows + item.prepared.rows <= limit:
            chunks[-1].append(item)
            rows += item.prepared.rows
        else:
            chunks.append([item])
            rows = item.prepared.rows
    return chunks
