"""The one HTTP transport under every client: auth header, timeouts, pooling, bounded retries
with exponential backoff and full jitter on 429/503 (and connection errors), honouring Retry-After."""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from meshserve.errors import NetworkError, TimeoutError, error_for

log = logging.getLogger("meshserve")

DEFAULT_BASE_URL = "http://localhost:8000"
RETRY_STATUSES = frozenset({429, 503})


def api_key_from_env() -> str | None:
    """The API key from MESHSERVE_API_KEY (or the documented ACE3_API_KEY)."""
    return os.environ.get("MESHSERVE_API_KEY") or os.environ.get("ACE3_API_KEY")


def backoff(attempt: int, base: float, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff for the given attempt (0-based)."""
    return random.uniform(0, min(cap, base * 2**attempt))


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait, if it said."""
    value = response.headers.get("retry-after") or response.headers.get("x-ratelimit-retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class Transport:
    """Synchronous requests with retries; one pooled httpx client."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        headers: Mapping[str, str] | None = None,
        backoff_base: float = 0.5,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key if api_key is not None else api_key_from_env()
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        all_headers = {"User-Agent": "meshserve-python", **(headers or {})}
        if self.api_key:
            all_headers["Authorization"] = f"Bearer {self.api_key}"
        self.client = http_client or httpx.Client(
            base_url=self.base_url, timeout=timeout, headers=all_headers
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Sends a request, retrying 429/503 and connection failures; raises SDK errors."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TimeoutException as exc:
                raise TimeoutError(f"{method} {path} timed out: {exc}") from exc
            except httpx.TransportError as exc:
                if attempt < self.max_retries:
                    time.sleep(backoff(attempt, self.backoff_base))
                    continue
                raise NetworkError(f"{method} {path} failed: {exc}") from exc
            log.debug("%s %s -> %s", method, path, response.status_code)
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                wait = retry_after_seconds(response)
                time.sleep(wait if wait is not None else backoff(attempt, self.backoff_base))
                continue
            if response.status_code >= 400:
                raise error_for(response.status_code, _body(response), retry_after_seconds(response) or 0)
            return response
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request whose answer is JSON."""
        return self.request(method, path, **kwargs).json()

    def stream_events(self, path: str, payload: Any) -> Iterator[Any]:
        """POSTs and yields each SSE ``data:`` payload (parsed JSON) until ``[DONE]`` or the end."""
        with self.client.stream("POST", path, json=payload) as response:
            if response.status_code >= 400:
                response.read()
                raise error_for(response.status_code, _body(response), retry_after_seconds(response) or 0)
            yield from parse_sse(response.iter_lines())

    def close(self) -> None:
        """Closes the pooled connections."""
        self.client.close()


def parse_sse(lines: Iterator[str]) -> Iterator[Any]:
    """The ``data:`` payloads of a Server-Sent Events stream, JSON-decoded when possible."""
    for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        try:
            yield json.loads(data)
        except ValueError:
            yield data


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text
