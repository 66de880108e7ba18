"""Sends generation events off the engine's thread, merging the text a busy sender falls behind on.

The engine's scheduler thread must not wait for replies to leave: each send crosses from the Triton
python backend's stub to the server (and on over gRPC), and on a 2-core machine 16 streams' sends
in series with the forward pass cost the batch about a third of its speed. The scheduler only posts
events here; one sender thread sends them. While it keeps up, every token leaves as its own event;
when it falls behind, the text events a request has queued go out as one (its final event takes the
text queued before it; their token log-probabilities are joined the same way), so the cost of sending grows with the number of streams, not of tokens.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("meshserve.llm")

#: Sends one event of a request; ``final`` marks its last reply.
Send = Callable[[dict[str, Any], bool], None]


def is_final(event: dict[str, Any]) -> bool:
    """Whether an event ends its request."""
    return any(
        key in event
        for key in (
            "finish_reason",
            "error",
            "stats",
            "cancelled",
            "cancelling",
            "embeddings",
            "detokenized",
            "tokens",
            "tokenizer_info",
        )
    )


class Outbox:
    """Queues events per request and sends them from one thread, merging queued text."""

    def __init__(self) -> None:
        self._pending: dict[int, tuple[Send, list[dict[str, Any]]]] = {}
        self._chunks: dict[int, int] = {}
        self._ready = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="llm-outbox", daemon=True)
        self._thread.start()

    def post(self, send: Send, event: dict[str, Any]) -> None:
        """Queues one event for the request that ``send`` answers."""
        with self._ready:
            entry = self._pending.get(id(send))
            if entry is None:
                self._pending[id(send)] = (send, [event])
            else:
                entry[1].append(event)
            self._ready.notify()

    def close(self) -> None:
        """Sends what is queued, then stops the thread."""
        with self._ready:
            self._closing = True
            self._ready.notify()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending and not self._closing:
                    self._ready.wait()
                if not self._pending:
                    return
                batch, self._pending = self._pending, {}
            for key, (send, events) in batch.items():
                for event in self._merged(key, events):
                    try:
                        send(event, is_final(event))
                    except Exception:  # the request is gone; its engine sequence sees the cancel
                        log.info("generation reply could not be sent", exc_info=True)

    def _merged(self, key: int, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events to send for one request: queued text as one event, or inside its final one."""
        running = [e for e in events if not is_final(e)]
        text = "".join(e.get("text", "") for e in running)
        logprobs = [entry for e in running for entry in e.get("logprobs", ())]
        # the prompt's entries (echo with logprobs) come once, with the first text: they stay on it
        prompt = [entry for e in events for entry in e.get("prompt_logprobs", ())]
        scored = {"prompt_logprobs": prompt} if prompt else {}
        last = events[-1]
        out: list[dict[str, Any]] = []
        if is_final(last) and "finish_reason" in last:
            merged = {**last, "text": text + last.get("text", ""), **scored}
            if logprobs or "logprobs" in last:
                merged["logprobs"] = logprobs + list(last.get("logprobs", ()))
            out.append(merged)
        else:
            if text:
                out.append({"text": text, **({"logprobs": logprobs} if logprobs else {}), **scored})
            if is_final(last):
                out.append(last)
        chunk = self._chunks.get(key, 0)
        for event in out:
            if "text" in event:
                event["index"] = chunk
                chunk += 1
        if is_final(last):
            self._chunks.pop(key, None)
        else:
            self._chunks[key] = chunk
        return out
