"""The one HTTP transport under every client (sync and async over httpx): auth header, timeouts,
pooling, bounded retries with exponential backoff and full jitter on 429/503 (and failed
connections), honouring ``Retry-After``; request logging; optional GET cache; client-side metrics;
SSE streams and streamed downloads."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import random
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

import httpx

from meshserve import config
from meshserve.errors import APIError, NetworkError, TimeoutError, error_for, stream_error
from meshserve.metrics import Metrics
from meshserve.upload import Progress

RETRY_STATUSES = frozenset({429, 503})
USER_AGENT = "meshserve-python/0.1.0"


def backoff(attempt: int, base: float, cap: float = 30.0) -> float:
    """Full-jitter exponential backoff for the given attempt (0-based)."""
    return random.uniform(0, min(cap, base * 2**attempt))


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (delta-seconds or an HTTP date), if it said."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Base:
    """Settings shared by the sync and async transports."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        backoff_base: float | None = None,
    ) -> None:
        cfg = config.get_config()
        self.base_url = (base_url or config.base_url_from_env() or config.DEFAULT_BASE_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else config.api_key_from_env()
        self.timeout = float(timeout if timeout is not None else cfg["default_timeout"])
        self.max_retries = int(max_retries if max_retries is not None else cfg["max_retries"])
        self.backoff_base = float(backoff_base if backoff_base is not None else cfg["backoff_base"])
        self.headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if self.api_key:
            self.headers["Authorization"] = f"Bearer {self.api_key}"
        self.metrics = Metrics()
        self._cache: dict[str, tuple[float, Any]] = {}

    def _wait(self, attempt: int, response: httpx.Response | None) -> float | None:
        """Seconds to wait before retry ``attempt`` (None: do not retry)."""
        if attempt >= self.max_retries:
            return None
        if response is not None:
            if response.status_code not in RETRY_STATUSES:
                return None
            told = retry_after_seconds(response)
            if told is not None:
                return told
        return backoff(attempt, self.backoff_base)

    def _cached(self, method: str, path: str, kwargs: Mapping[str, Any]) -> Any:
        cfg = config.get_config()
        if method != "GET" or not cfg["cache_enabled"] or kwargs:
            return None
        hit = self._cache.get(path)
        if hit and time.monotonic() - hit[0] < cfg["cache_ttl"]:
            return hit[1]
        return None

    def _store(self, method: str, path: str, kwargs: Mapping[str, Any], value: Any) -> None:
        if method == "GET" and not kwargs and config.get_config()["cache_enabled"]:
            self._cache[path] = (time.monotonic(), value)

    @staticmethod
    def _retryable_transport_error(method: str, exc: httpx.TransportError) -> bool:
        # A refused connection never reached the server; other failures only for idempotent reads.
        return isinstance(exc, httpx.ConnectError) or method in ("GET", "HEAD", "DELETE")

    @staticmethod
    def _log(method: str, path: str, status: int | str, started: float, attempt: int) -> None:
        config.logger().debug(
            "%s %s -> %s in %.1f ms (attempt %d)",
            method,
            path,
            status,
            (time.perf_counter() - started) * 1000,
            attempt + 1,
        )

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.status_code >= 400:
            raise error_for(response.status_code, _body(response), retry_after_seconds(response) or 0)

    def _client_options(self) -> dict[str, Any]:
        """The settings of the pooled httpx client (sync or async)."""
        return {
            "base_url": self.base_url,
            "timeout": self.timeout,
            "headers": self.headers,
            "limits": httpx.Limits(max_connections=100, max_keepalive_connections=20),
        }

    def _timed_out(self, method: str, path: str) -> TimeoutError:
        return TimeoutError(f"{method} {path} timed out after {self.timeout}s")

    def _failed(self, method: str, path: str, exc: httpx.TransportError) -> NetworkError:
        return NetworkError(f"{method} {self.base_url}{path} failed: {exc}")

    @contextlib.contextmanager
    def _errors(self, method: str, path: str) -> Iterator[None]:
        """Raises httpx's timeouts and transport failures as the SDK's TimeoutError and NetworkError."""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise self._timed_out(method, path) from exc
        except httpx.TransportError as exc:
            raise self._failed(method, path, exc) from exc

    def _failure_wait(
        self,
        method: str,
        path: str,
        kwargs: Mapping[str, Any],
        exc: httpx.TransportError,
        started: float,
        attempt: int,
    ) -> float:
        """Seconds before retrying a request that failed in transport (uploads rewound); raises
        TimeoutError or NetworkError when it is not retried."""
        if isinstance(exc, httpx.TimeoutException):
            self.metrics.record((time.perf_counter() - started) * 1000, True)
            raise self._timed_out(method, path) from exc
        self._log(method, path, type(exc).__name__, started, attempt)
        wait = self._wait(attempt, None) if self._retryable_transport_error(method, exc) else None
        if wait is None:
            self.metrics.record((time.perf_counter() - started) * 1000, True)
            raise self._failed(method, path, exc) from exc
        _rewind(kwargs)
        return wait

    def _response_wait(
        self,
        method: str,
        path: str,
        kwargs: Mapping[str, Any],
        response: httpx.Response,
        started: float,
        attempt: int,
    ) -> float | None:
        """Seconds before retrying a request answered 429/503 (uploads rewound), or None when the
        response is the answer; an error response raises."""
        self._log(method, path, response.status_code, started, attempt)
        self.metrics.record((time.perf_counter() - started) * 1000, response.status_code >= 400)
        wait = self._wait(attempt, response)
        if wait is not None:
            config.logger().info("%s %s: %s, retrying in %.2fs", method, path, response.status_code, wait)
            _rewind(kwargs)
            return wait
        self._raise_for(response)
        return None


class Transport(_Base):
    """Synchronous requests with retries over one pooled httpx client."""

    def __init__(self, *args: Any, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = http_client or httpx.Client(**self._client_options())

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Sends a request, retrying 429/503 and failed connections; raises SDK errors."""
        for attempt in range(self.max_retries + 1):
            started = time.perf_counter()
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                time.sleep(self._failure_wait(method, path, kwargs, exc, started, attempt))
                continue
            wait = self._response_wait(method, path, kwargs, response, started, attempt)
            if wait is None:
                return response
            time.sleep(wait)
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request whose answer is JSON (GETs may come from the cache)."""
        cached = self._cached(method, path, kwargs)
        if cached is not None:
            return cached
        value = self.request(method, path, **kwargs).json()
        self._store(method, path, kwargs, value)
        return value

    @contextlib.contextmanager
    def _streamed(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """The response whose body is read in the ``with`` block: errors are settled, and 429/503
        retried, before it is given; its time is recorded once the block has read it all."""
        for attempt in range(self.max_retries + 1):
            started = time.perf_counter()
            with self._errors(method, path), self.client.stream(method, path, **kwargs) as response:
                wait = self._wait(attempt, response)
                if wait is None:
                    if response.status_code >= 400:
                        response.read()
                        self._raise_for(response)
                    self._log(method, path, response.status_code, started, attempt)
                    yield response
                    self.metrics.record((time.perf_counter() - started) * 1000, False)
                    return
            time.sleep(wait)

    def stream_events(self, path: str, payload: Any, method: str = "POST") -> Iterator[Any]:
        """Yields each SSE ``data:`` payload (JSON-decoded) until ``[DONE]``; in-band errors raise."""
        with self._streamed(method, path, json=payload) as response:
            yield from _raise_in_band(parse_sse(response.iter_lines()))

    def download(
        self, method: str, path: str, progress: Progress | None = None, **kwargs: Any
    ) -> Iterator[bytes]:
        """Yields a response body in pieces as they arrive (audio comes a sentence at a time),
        reporting ``(received, total)`` bytes to ``progress``; total is 0 when the server does not
        say (chunked transfer). Errors are settled, and 429/503 retried, before the first piece."""
        with self._streamed(method, path, **kwargs) as response:
            total = int(response.headers.get("content-length") or 0)
            received = 0
            for piece in response.iter_bytes():
                received += len(piece)
                if progress is not None:
                    progress(received, total)
                yield piece

    def close(self) -> None:
        """Closes the pooled connections."""
        self.client.close()


class AsyncTransport(_Base):
    """The same over ``httpx.AsyncClient`` (awaitable sleeps; one pool per client)."""

    def __init__(self, *args: Any, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = http_client or httpx.AsyncClient(**self._client_options())

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Sends a request, retrying 429/503 and failed connections; raises SDK errors."""
        for attempt in range(self.max_retries + 1):
            started = time.perf_counter()
            try:
                response = await self.client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                await asyncio.sleep(self._failure_wait(method, path, kwargs, exc, started, attempt))
                continue
            wait = self._response_wait(method, path, kwargs, response, started, attempt)
            if wait is None:
                return response
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A request whose answer is JSON (GETs may come from the cache)."""
        cached = self._cached(method, path, kwargs)
        if cached is not None:
            return cached
        value = (await self.request(method, path, **kwargs)).json()
        self._store(method, path, kwargs, value)
        return value

    async def stream_events(self, path: str, payload: Any, method: str = "POST") -> AsyncIterator[Any]:
        """Yields each SSE ``data:`` payload until ``[DONE]``; in-band errors raise."""
        for attempt in range(self.max_retries + 1):
            with self._errors(method, path):
                async with self.client.stream(method, path, json=payload) as response:
                    wait = self._wait(attempt, response)
                    if wait is None:
                        if response.status_code >= 400:
                            await response.aread()
                            self._raise_for(response)
                        async for event in _aparse_sse(response.aiter_lines()):
                            error = stream_error(event)
                            if error is not None:
                                raise error
                            yield event
                        return
            await asyncio.sleep(wait)

    async def close(self) -> None:
        """Closes the pooled connections."""
        await self.client.aclose()


def _decode(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data


def parse_sse(lines: Iterable[str]) -> Iterator[Any]:
    """The ``data:`` payloads of a Server-Sent Events stream (multi-line data joined), JSON-decoded
    when possible, until ``[DONE]``."""
    buffer: list[str] = []
    for line in lines:
        if line.startswith("data:"):
            buffer.append(line[5:].removeprefix(" "))
        elif line == "" and buffer:
            data = "\n".join(buffer)
            buffer = []
            if data.strip() == "[DONE]":
                return
            yield _decode(data)
    if buffer and "\n".join(buffer).strip() != "[DONE]":
        yield _decode("\n".join(buffer))


async def _aparse_sse(lines: AsyncIterator[str]) -> AsyncIterator[Any]:
    buffer: list[str] = []
    async for line in lines:
        buffer.append(line)
        if line == "":
            for event in parse_sse(buffer):
                yield event
            if any(b.startswith("data:") and b[5:].strip() == "[DONE]" for b in buffer):
                return
            buffer = []
    for event in parse_sse(buffer):
        yield event


def _raise_in_band(events: Iterator[Any]) -> Iterator[Any]:
    for event in events:
        error = stream_error(event)
        if error is not None:
            raise error
        yield event


def _rewind(kwargs: Mapping[str, Any]) -> None:
    """Rewinds uploaded files so a retried request sends them whole."""
    files = kwargs.get("files") or {}
    for value in files.values() if isinstance(files, Mapping) else ():
        handle = value[1] if isinstance(value, tuple) else value
        if hasattr(handle, "seek"):
            handle.seek(0)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


__all__ = ["APIError", "AsyncTransport", "Metrics", "Transport", "parse_sse"]
