"""Prometheus metrics of text generation, per model, as the inference service sees each sequence's
chunks arrive from its worker: time to first token, the gap between chunks, prompt and completion
tokens, the sequences in flight (the continuous batch's occupancy, waiting ones included), and each
sequence's wait for a batch slot by queue priority (what the worker reports in its last event)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

TIME_TO_FIRST_TOKEN = Histogram(
    "meshserve_llm_time_to_first_token_seconds",
    "From a sequence's request to the worker until its first text",
    ["model"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
INTER_TOKEN = Histogram(
    "meshserve_llm_inter_token_seconds",
    "Between one text chunk of a sequence and the next",
    ["model"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
)
COMPLETION_TOKENS = Counter("meshserve_llm_completion_tokens_total", "Tokens generated", ["model"])
PROMPT_TOKENS = Counter("meshserve_llm_prompt_tokens_total", "Prompt tokens of finished sequences", ["model"])
QUEUE_WAIT = Histogram(
    "meshserve_llm_queue_wait_seconds",
    "From a sequence's submission to its worker's scheduler until it joins the batch, by queue priority",
    ["model", "priority"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
SEQUENCES_IN_FLIGHT = Gauge(
    "meshserve_llm_sequences_in_flight", "Sequences sent to a worker and not finished", ["model"]
)


class SequenceClock:
    """Times one sequence: create it when the request leaves, call :meth:`text` on each chunk
    with text and :meth:`finished` with the usage of its last one."""

    def __init__(self, model: str, priority: int = 0) -> None:
        self.model = model
        self.priority = priority
        # The labelled series, looked up once: text() runs for every token.
        self._first_token = TIME_TO_FIRST_TOKEN.labels(model)
        self._between = INTER_TOKEN.labels(model)
        self._in_flight = SEQUENCES_IN_FLIGHT.labels(model)
        self._last = time.perf_counter()
        self._first = True
        self._in_flight.inc()

    def text(self) -> None:
        """A chunk with text arrived."""
        now = time.perf_counter()
        (self._first_token if self._first else self._between).observe(now - self._last)
        self._first, self._last = False, now

    def finished(self, prompt_tokens: int, completion_tokens: int, queue_seconds: float = 0.0) -> None:
        """The sequence's last chunk arrived (``queue_seconds``: its wait for a batch slot)."""
        QUEUE_WAIT.labels(self.model, str(self.priority)).observe(queue_seconds)
        PROMPT_TOKENS.labels(self.model).inc(prompt_tokens)
        COMPLETION_TOKENS.labels(self.model).inc(completion_tokens)

    def close(self) -> None:
        """The sequence left (finished, failed or cancelled)."""
        self._in_flight.dec()
