"""Authentication benchmark: p50 latency an authenticated ``POST /predict`` adds over an anonymous
one, in one run, on one gateway (auth off, so both kinds are served; an authenticated call still
does all the work it does with auth on: local JWT verification or a cached API-key look-up, the
permission table, plan counting and the audit event). Rate limits are on, as by default, scaled
by 1000 (``MESHSERVE_GATEWAY_RATE_LIMIT_SCALE``) so that the rounds never reach them.

Starts its own mesh on free ports. Requests alternate anonymous / API key (pro plan, so counted) /
JWT, sequentially, over one keep-alive connection each, so drift hits every kind alike.
Run: ``.venv/bin/python bench/auth.py [--rounds 400]``. Target: added p50 <= 0.5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.procs import run_mesh

ADMIN, PASSWORD = "bench-admin", "bench-password-1"
BODY = json.dumps({"model_name": "example", "inputs": [[1.0, 2.0, 3.0, 4.0]]}).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection with fixed extra headers (client cost close to nothing)."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        self.stream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> float:
        """POSTs; returns seconds to the full response; raises on a non-200 status."""
        if self.stream is None:
            self.stream = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.stream
        started = time.perf_counter()
        writer.write(
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.host.encode(), self.extra, len(body), body)
        )
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        payload = await reader.readexactly(length)
        elapsed = time.perf_counter() - started
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"{head[:40]!r}: {payload[:200]!r}")
        return elapsed

    async def close(self) -> None:
        """Closes the connection."""
        if self.stream is not None:
            self.stream[1].close()
            with contextlib.suppress(Exception):
                await self.stream[1].wait_closed()


def credentials(base_url: str) -> dict[str, dict[str, str]]:
    """Headers of each kind of caller: anonymous, a pro-plan API key, an access token."""
    with httpx.Client(base_url=base_url, timeout=60) as http:
        login = http.post("/auth/login", json={"username": ADMIN, "password": PASSWORD})
        login.raise_for_status()
        token = login.json()["access_token"]
        key = http.post(
            "/auth/generate-key",
            json={"name": "bench", "role": "write", "plan": "pro"},
            headers={"Authorization": f"Bearer {token}"},
        )
        key.raise_for_status()
        return {
            "anonymous": {},
            "api key (pro)": {"X-API-Key": key.json()["api_key"]},
            "jwt": {"Authorization": f"Bearer {token}"},
        }


async def bench(base_url: str, rounds: int) -> dict[str, list[float]]:
    """Interleaved sequential predicts; seconds per request by caller kind."""
    port = int(base_url.rsplit(":", 1)[1])
    connections = {kind: Connection("127.0.0.1", port, h) for kind, h in credentials(base_url).items()}
    samples: dict[str, list[float]] = {kind: [] for kind in connections}
    try:
        for _ in range(20):  # warm-up: model loaded, caches filled
            for conn in connections.values():
                await conn.post("/predict", BODY)
        for _ in range(rounds):
            for kind, conn in connections.items():
                samples[kind].append(await conn.post("/predict", BODY))
    finally:
        for conn in connections.values():
            await conn.close()
    return samples


def main() -> None:
    """Starts a mesh, measures, prints a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    env = {
        "MESHSERVE_AUTH_ADMIN_USERNAME": ADMIN,
        "MESHSERVE_AUTH_ADMIN_PASSWORD": PASSWORD,
        # Every caller is counted, as by default, under limits the rounds cannot reach.
        "MESHSERVE_GATEWAY_RATE_LIMITS": "on",
        "MESHSERVE_GATEWAY_RATE_LIMIT_SCALE": "1000",
    }
    with tempfile.TemporaryDirectory() as tmp, run_mesh(Path(tmp), env) as mesh:
        samples = asyncio.run(bench(mesh.base_url, args.rounds))
    anonymous = statistics.median(samples["anonymous"]) * 1000
    print(f"POST /predict, {args.rounds} sequential requests per kind, interleaved")
    print(f"{'caller':<16}{'p50 ms':>10}{'p99 ms':>10}{'added p50 ms':>15}")
    for kind, values in samples.items():
        ms = sorted(v * 1000 for v in values)
        p50, p99 = statistics.median(ms), ms[int(len(ms) * 0.99) - 1]
        added = "" if kind == "anonymous" else f"{p50 - anonymous:+.3f}"
        print(f"{kind:<16}{p50:>10.3f}{p99:>10.3f}{added:>15}")


if __name__ == "__main__":
    main()
