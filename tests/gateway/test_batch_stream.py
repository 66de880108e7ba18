"""The gateway's predictions as messages of one ``PredictBatchStream`` call (:mod:`gateway.batch_stream`):
they ride the stream with their own request ids; what a stream cannot answer (the service drains,
the stream breaks) goes as calls and is not lost; streams are retired and replaced; a stream that
does not answer in time gives a deadline error and is not used again.

The inference service here is a real gRPC server on a socket whose stream side is the service's own
(:func:`services.common.multiplex.answer_concurrently`); it answers every prediction with the model
name and request id it received, and counts how each came.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from gateway import batch_stream
from gateway.clients import MeshClients
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import inference_pb2_grpc as ipb_grpc
from services.common.context import REQUEST_ID_HEADER, request_id_var
from services.common.errors import DeadlineExceeded
from services.common.multiplex import answer_concurrently
from services.common.settings import MeshEndpoints
from tests.grpc_servers import start_servicer


class Service(ipb_grpc.InferenceServiceServicer):
    """Answers each prediction, after ``delay`` seconds, with its model name and request id; counts
    the predictions that came by each way (``stream``, ``Predict``, ``PredictBatch``)."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.draining = asyncio.Event()
        self.came: Counter[str] = Counter()
        self.streams = 0
        #: Abort a stream with UNAVAILABLE after this many messages (None: never).
        self.break_after: int | None = None

    async def answer(self, request: ipb.PredictRequest, request_id: str) -> ipb.PredictResponse:
        await asyncio.sleep(self.delay)
        return ipb.PredictResponse(model_name=request.model.name, request_id=request_id)

    async def Predict(
        self, request: ipb.PredictRequest, context: grpc.aio.ServicerContext
    ) -> ipb.PredictResponse:
        self.came["Predict"] += 1
        return await self.answer(request, dict(context.invocation_metadata() or ())[REQUEST_ID_HEADER])

    async def PredictBatch(
        self, request: ipb.PredictBatchRequest, context: grpc.aio.ServicerContext
    ) -> ipb.PredictBatchResponse:
        self.came["PredictBatch"] += len(request.items)
        return await self.batch(request)

    async def batch(self, request: ipb.PredictBatchRequest) -> ipb.PredictBatchResponse:
        responses = await asyncio.gather(
            *(self.answer(item.request, item.metadata[REQUEST_ID_HEADER]) for item in request.items)
        )
        return ipb.PredictBatchResponse(outcomes=[ipb.PredictOutcome(response=r) for r in responses])

    async def PredictBatchStream(
        self,
        request_iterator: AsyncIterator[ipb.PredictBatchStreamRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[ipb.PredictBatchStreamResponse]:
        self.streams += 1
        messages = 0

        async def answer(message: ipb.PredictBatchStreamRequest) -> ipb.PredictBatchStreamResponse:
            nonlocal messages
            messages += 1
            if self.break_after is not None and messages > self.break_after:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")
            self.came["stream"] += len(message.batch.items)
            return ipb.PredictBatchStreamResponse(id=message.id, batch=await self.batch(message.batch))

        async for response in answer_concurrently(request_iterator, answer, self.draining):
            yield response


async def serving(servicer: Service) -> tuple[grpc.aio.Server, int]:
    return await start_servicer(ipb_grpc.add_InferenceServiceServicer_to_server, servicer)


@pytest.fixture(autouse=True)
def no_internal_token(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.common import internal_auth

    monkeypatch.setattr(internal_auth, "_current", [internal_auth.InternalAuthSettings(enable_auth=False)])


@pytest.fixture
async def service() -> AsyncIterator[tuple[Service, int]]:
    servicer = Service()
    server, port = await serving(servicer)
    yield servicer, port
    await server.stop(None)


@pytest.fixture
async def clients(service: tuple[Service, int]) -> AsyncIterator[MeshClients]:
    # One stream, so that what opens and ends can be counted.
    clients = MeshClients(
        MeshEndpoints(inference_address=f"127.0.0.1:{service[1]}"), call_timeout=10, predict_streams=1
    )
    yield clients
    await clients.close()


@pytest.fixture
async def eager_clients(service: tuple[Service, int]) -> AsyncIterator[MeshClients]:
    """Enough calls in flight that every prediction is sent at once, as a message of its own."""
    clients = MeshClients(
        MeshEndpoints(inference_address=f"127.0.0.1:{service[1]}"),
        call_timeout=10,
        predict_calls=16,
        predict_streams=1,
    )
    yield clients
    await clients.close()


async def predict(clients: MeshClients, i: int) -> ipb.PredictResponse:
    request_id_var.set(f"request-{i}")  # this task's own context
    return await clients.predict(ipb.PredictRequest(model=common.ModelRef(name=f"m{i}")))


def answered(replies: list[ipb.PredictResponse], numbers: Iterator[int] | range) -> bool:
    return [(r.model_name, r.request_id) for r in replies] == [(f"m{i}", f"request-{i}") for i in numbers]


async def test_predictions_ride_one_stream_each_with_its_own_request_id(
    service: tuple[Service, int], clients: MeshClients
) -> None:
    servicer, _ = service
    servicer.delay = 0.02
    replies = await asyncio.gather(*(predict(clients, i) for i in range(24)))
    assert answered(replies, range(24))
    sequential = [await predict(clients, i) for i in range(24, 30)]
    assert answered(sequential, range(24, 30))
    assert servicer.came == {"stream": 30}
    assert servicer.streams == 1


async def test_a_draining_service_answers_what_it_read_and_the_rest_go_as_calls(
    service: tuple[Service, int], eager_clients: MeshClients
) -> None:
    servicer, _ = service
    servicer.delay = 0.3
    early = [asyncio.create_task(predict(eager_clients, i)) for i in range(6)]
    await asyncio.sleep(0.1)  # read and started
    servicer.draining.set()
    # Written to the stream too, but read after the drain began: not started, so sent again.
    late = [asyncio.create_task(predict(eager_clients, i)) for i in range(6, 12)]
    replies = await asyncio.gather(*early, *late)
    assert answered(replies, range(12))
    assert servicer.came == {"stream": 6, "Predict": 6}
    assert servicer.streams == 1, "no new stream within REOPEN_DELAY of the service ending one"


async def test_a_stream_that_breaks_sends_what_it_did_not_answer_as_calls(
    service: tuple[Service, int], clients: MeshClients
) -> None:
    servicer, _ = service
    servicer.delay = 0.1
    servicer.break_after = 2
    replies = await asyncio.gather(*(predict(clients, i) for i in range(8)))
    assert answered(replies, range(8))
    assert servicer.came["Predict"] + servicer.came["PredictBatch"] >= 1
    assert servicer.streams == 1


async def test_streams_are_retired_after_their_messages_and_replaced(
    service: tuple[Service, int], clients: MeshClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    servicer, _ = service
    monkeypatch.setattr(batch_stream, "MAX_MESSAGES", 3)
    replies = [await predict(clients, i) for i in range(10)]
    assert answered(replies, range(10))
    assert servicer.came == {"stream": 10}
    assert servicer.streams == 4


async def test_a_stream_idle_past_its_age_is_replaced_before_use(
    service: tuple[Service, int], clients: MeshClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    servicer, _ = service
    monkeypatch.setattr(batch_stream, "MAX_AGE", 0.3)
    assert answered([await predict(clients, 1)], [1])
    await asyncio.sleep(0.4)
    assert answered([await predict(clients, 2)], [2])
    assert servicer.came == {"stream": 2}
    assert servicer.streams == 2


async def test_a_stream_that_does_not_answer_in_time_is_a_deadline_error_and_is_replaced(
    service: tuple[Service, int], clients: MeshClients
) -> None:
    servicer, _ = service
    servicer.delay = 3.0
    request_id_var.set("late")
    assert clients.batch_stream is not None
    with pytest.raises(DeadlineExceeded):
        await clients.batch_stream.send(
            ipb.PredictBatchRequest(
                items=[
                    ipb.PredictBatchItem(request=ipb.PredictRequest(), metadata={REQUEST_ID_HEADER: "late"})
                ]
            ),
            timeout=0.2,
        )
    servicer.delay = 0.0
    assert answered([await predict(clients, 1)], [1])
    assert servicer.streams == 2


async def test_callers_that_leave_do_not_break_the_stream_for_the_others(
    service: tuple[Service, int], eager_clients: MeshClients
) -> None:
    servicer, _ = service
    servicer.delay = 0.2
    for attempt in range(3):
        numbers = range(attempt * 12, attempt * 12 + 12)
        tasks = {i: asyncio.create_task(predict(eager_clients, i)) for i in numbers}
        for _ in range(attempt + 1):
            await asyncio.sleep(0)  # on their way out: opening the stream, writing, waiting
        for i in numbers:
            if i % 3 == 0:
                tasks[i].cancel()
        staying = [i for i in numbers if i % 3]
        assert answered(list(await asyncio.gather(*(tasks[i] for i in staying))), staying)
    assert servicer.came.keys() == {"stream"}, "every prediction went on the stream"
    assert servicer.streams == 1


async def test_predictions_take_turns_over_streams_that_reach_every_replica(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A replica that connects later than the first streams open is reached once they are retired.
    monkeypatch.setattr(batch_stream, "MAX_AGE", 0.1)
    replicas = [Service(), Service()]
    servers = [await serving(servicer) for servicer in replicas]
    addresses = ",".join(f"127.0.0.1:{port}" for _, port in servers)
    clients = MeshClients(MeshEndpoints(inference_address=addresses), call_timeout=10)
    replies = []
    try:
        for i in range(60):  # one after another, until both replicas have answered some
            replies.append(await predict(clients, i))
            if all(servicer.came for servicer in replicas):
                break
            await asyncio.sleep(0.02)
    finally:
        await clients.close()
        for server, _ in servers:
            await server.stop(None)
    assert answered(replies, range(len(replies)))
    assert [servicer.came.keys() for servicer in replicas] == [{"stream"}, {"stream"}]
