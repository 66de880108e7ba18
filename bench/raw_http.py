"""A minimal keep-alive HTTP/1.1 client for the benchmarks, like ``wrk``: its own cost is close to
nothing, so what it measures is what the server adds."""

from __future__ import annotations

import asyncio
import contextlib


class RawHttp:
    """A minimal keep-alive HTTP/1.1 client (one connection per concurrent caller), like wrk."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened: list[asyncio.StreamWriter] = []

    async def post_json(self, path: str, body: bytes) -> bytes:
        """POSTs a JSON body; returns the response body; raises on a non-200 status."""
        request = (
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.host.encode(), len(body), body)
        )
        if self.idle:
            reader, writer = self.idle.pop()
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed it while it idled (keep-alive timeout): once more on a new one.
                reader, writer = await self._send_on_new(request)
                head = await reader.readuntil(b"\r\n\r\n")
        else:
            reader, writer = await self._send_on_new(request)
            head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == b"content-length":
                length = int(value)
        payload = await reader.readexactly(length)
        self.idle.append((reader, writer))
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {payload[:200]!r}")
        return payload

    async def _send_on_new(self, request: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened.append(writer)
        writer.write(request)
        return reader, writer

    async def close(self) -> None:
        """Closes every connection."""
        for writer in self.opened:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
