"""The outbox sends each request's events in order, one by one while it keeps up, and merges the
text a request queued while the sender was busy (its final event takes the text before it)."""

from __future__ import annotations

import threading
from typing import Any

from services.inference.llm.outbox import Outbox


def test_events_go_out_one_by_one_when_the_sender_keeps_up() -> None:
    outbox = Outbox()
    sent: list[tuple[dict[str, Any], bool]] = []
    arrived = threading.Event()

    def send(event: dict[str, Any], final: bool) -> None:
        sent.append((event, final))
        arrived.set()

    try:
        for piece in ("a", "b"):
            arrived.clear()
            outbox.post(send, {"text": piece, "index": 0})
            assert arrived.wait(5)
        outbox.post(send, {"text": "", "index": 0, "finish_reason": "stop", "usage": {}})
    finally:
        outbox.close()
    assert sent == [
        ({"text": "a", "index": 0}, False),
        ({"text": "b", "index": 1}, False),
        ({"text": "", "index": 2, "finish_reason": "stop", "usage": {}}, True),
    ]


def test_a_busy_sender_merges_queued_text_per_request() -> None:
    outbox = Outbox()
    gate, entered = threading.Event(), threading.Event()
    sent: dict[str, list[tuple[dict[str, Any], bool]]] = {"x": [], "y": []}

    def sender(name: str) -> Any:
        def send(event: dict[str, Any], final: bool) -> None:
            entered.set()
            gate.wait(5)  # the first send blocks until everything below is queued
            sent[name].append((event, final))

        return send

    x, y = sender("x"), sender("y")
    try:
        outbox.post(x, {"text": "1", "index": 0})
        assert entered.wait(5)  # the sender is busy with "1"
        for piece in ("2", "3", "4"):
            outbox.post(x, {"text": piece, "index": 0})
        outbox.post(
            x, {"text": "5", "index": 0, "finish_reason": "length", "usage": {"completion_tokens": 5}}
        )
        outbox.post(y, {"text": "p", "index": 0})
        outbox.post(y, {"text": "q", "index": 0})
        outbox.post(y, {"cancelled": True})
        gate.set()
    finally:
        outbox.close()
    text_x = "".join(e["text"] for e, _ in sent["x"])
    assert text_x == "12345"
    assert sent["x"][-1][1] is True and sent["x"][-1][0]["finish_reason"] == "length"
    assert sent["x"][0] == ({"text": "1", "index": 0}, False)
    assert sent["x"][1] == (
        {"text": "2345", "index": 1, "finish_reason": "length", "usage": {"completion_tokens": 5}},
        True,
    )
    assert [e["index"] for e, _ in sent["x"]] == list(range(len(sent["x"])))
    assert sent["y"] == [({"text": "pq", "index": 0}, False), ({"cancelled": True}, True)]


def test_merged_events_keep_the_prompts_logprobs() -> None:
    """echo with logprobs: the prompt's entries ride on the first text event; a merge keeps them."""
    outbox = Outbox()
    gate, entered = threading.Event(), threading.Event()
    sent: list[dict[str, Any]] = []

    def send(event: dict[str, Any], final: bool) -> None:
        entered.set()
        gate.wait(5)
        sent.append(event)

    prompt = [{"token": "Once", "bytes": [], "logprob": None, "top": []}]
    entry = {"token": " there", "bytes": [], "logprob": -0.3, "top": []}
    try:
        outbox.post(send, {"stats": {}})  # keeps the sender busy while the events below queue up
        assert entered.wait(5)
        outbox.post(send, {"text": " there", "index": 0, "logprobs": [entry], "prompt_logprobs": prompt})
        outbox.post(send, {"text": " was", "index": 1, "logprobs": [entry]})
        gate.set()
    finally:
        outbox.close()
    assert sent[1] == {
        "text": " there was",
        "index": 0,
        "logprobs": [entry, entry],
        "prompt_logprobs": prompt,
    }
