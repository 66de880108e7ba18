"""The server side of a multiplexed stream (:func:`services.common.multiplex.answer_concurrently`):
requests answered concurrently, in the order they finish; a drain ends the stream once what was
started is answered; an answer that raises ends it with that error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.common.multiplex import answer_concurrently


class Requests:
    """A client's side of the stream: what it sends, and its half-close."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[str, float] | None] = asyncio.Queue()
        self.read: list[str] = []

    def send(self, name: str, seconds: float = 0.0) -> None:
        self.queue.put_nowait((name, seconds))

    def close(self) -> None:
        self.queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[tuple[str, float]]:
        while (request := await self.queue.get()) is not None:
            self.read.append(request[0])
            yield request


async def slow_echo(request: tuple[str, float]) -> str:
    name, seconds = request
    await asyncio.sleep(seconds)
    if name == "boom":
        raise ValueError("the answer failed")
    return name


async def collect(answers: AsyncIterator[str]) -> list[str]:
    return [answer async for answer in answers]


async def test_requests_are_answered_at_once_in_the_order_they_finish() -> None:
    requests = Requests()
    for name, seconds in (("slow", 0.3), ("fast", 0.0), ("middle", 0.1)):
        requests.send(name, seconds)
    requests.close()
    started = asyncio.get_running_loop().time()
    answers = await collect(answer_concurrently(requests, slow_echo, asyncio.Event()))
    assert answers == ["fast", "middle", "slow"]
    assert asyncio.get_running_loop().time() - started < 0.55  # concurrently, not one after another


async def test_the_stream_stays_open_until_the_client_half_closes_and_all_is_answered() -> None:
    requests = Requests()
    answers = answer_concurrently(requests, slow_echo, asyncio.Event())
    requests.send("first")
    assert await anext(answers) == "first"
    requests.send("second", 0.05)
    requests.close()
    assert await collect(answers) == ["second"]


async def test_a_drain_answers_what_was_started_reads_nothing_more_and_ends() -> None:
    requests = Requests()
    draining = asyncio.Event()
    answers = answer_concurrently(requests, slow_echo, draining)
    requests.send("started", 0.2)
    collecting = asyncio.create_task(collect(answers))
    await asyncio.sleep(0.05)  # read and started
    draining.set()
    requests.send("after the drain")  # read, perhaps, but never started: the client sends it again
    assert await asyncio.wait_for(collecting, 5) == ["started"]


async def test_an_answer_that_raises_ends_the_stream_with_its_error() -> None:
    requests = Requests()
    requests.send("fine")
    requests.send("boom", 0.05)
    requests.send("never", 5.0)
    answers = answer_concurrently(requests, slow_echo, asyncio.Event())
    assert await anext(answers) == "fine"
    with pytest.raises(ValueError, match="the answer failed"):
        await asyncio.wait_for(anext(answers), 2)
