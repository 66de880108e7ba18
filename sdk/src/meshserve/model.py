"""Document 000's model object: ``info()``, ``is_optimized()``, ``size_mb()``, ``predict``,
``batch_predict``, their async forms and ``create_stream()``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from meshserve import api
from meshserve.closing import Closing
from meshserve.objects import Obj, wrap
from meshserve.transport import AsyncTransport, Transport


class ModelInfo(Obj):
    """Model metadata: name, version, format, input_shape, output_shape, inputs, outputs…"""


def _shape(specs: Sequence[Mapping[str, Any]]) -> list[int] | None:
    return list(specs[0]["shape"]) if specs else None


def _chunks(data: Any, size: int) -> list[Any]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _merge(parts: list[Any], started_batch: int) -> Obj:
    outputs: Any
    first = parts[0]["outputs"]
    if isinstance(first, dict):  # several named outputs: concatenate each
        outputs = {k: [row for p in parts for row in p["outputs"][k]] for k in first}
    else:
        outputs = [row for p in parts for row in p["outputs"]]
    return Obj(
        outputs=outputs,
        latency_ms=round(sum(p["latency_ms"] for p in parts), 3),
        request_ids=[p["request_id"] for p in parts],
        batches=len(parts),
        batch_size=started_batch,
    )


class Model(Obj):
    """A registered model (its fields read as attributes) bound to the client that loaded it."""

    def __init__(self, data: Mapping[str, Any], client: Any) -> None:
        super().__init__(wrap(dict(data)))
        self._client = client

    @property
    def name(self) -> str:
        """The model's name (what predict addresses)."""
        return str(self.get("name") or self.get("id"))

    def info(self) -> ModelInfo:
        """Fresh metadata from the registry, with ``input_shape``/``output_shape`` of the first tensors."""
        data = self._client._run(api.get_model(self.name))
        if asyncio.iscoroutine(data):
            data.close()
            raise TypeError("info() on an AsyncClient's model: use `await client.get_model(name)`")
        self.update(wrap(data))
        return ModelInfo(
            wrap(
                {
                    **data,
                    "input_shape": _shape(data.get("inputs", [])),
                    "output_shape": _shape(data.get("outputs", [])),
                }
            )
        )

    def is_optimized(self) -> bool:
        """Whether this version was produced by ``client.optimize``."""
        return bool(self.get("optimized", False))

    def size_mb(self) -> float:
        """Stored size in megabytes (10^6 bytes)."""
        return round(int(self.get("size_bytes", 0)) / 1_000_000, 6)

    # -- inference --------------------------------------------------------------------------
    def predict(self, inputs: Any, **options: Any) -> Obj:
        """``{"outputs", "latency_ms", "request_id"}`` for one input batch."""
        return self._sync_run(api.predict(self.name, inputs, **options))

    def batch_predict(self, batch: Any, batch_size: int | None = None) -> Obj:
        """Predicts a batch in requests of ``batch_size`` rows (all at once by default); outputs in order."""
        rows = batch.tolist() if hasattr(batch, "tolist") else list(batch)
        size = batch_size or len(rows) or 1
        parts = [self._sync_run(api.predict(self.name, chunk)) for chunk in _chunks(rows, size)]
        return _merge(parts, size)

    async def async_predict(self, inputs: Any, **options: Any) -> Obj:
        """predict, awaitable."""
        async with self._async_transport() as transport:
            return await _call(transport, api.predict(self.name, inputs, **options))

    async def async_batch_predict(self, batch: Any, batch_size: int | None = None) -> Obj:
        """batch_predict with the requests sent concurrently."""
        rows = batch.tolist() if hasattr(batch, "tolist") else list(batch)
        size = batch_size or len(rows) or 1
        async with self._async_transport() as transport:
            parts = await asyncio.gather(
                *(_call(transport, api.predict(self.name, chunk)) for chunk in _chunks(rows, size))
            )
        return _merge(list(parts), size)

    def create_stream(self) -> PredictionStream:
        """A stream for real-time use: each ``predict`` goes over one kept-alive connection."""
        return PredictionStream(self.name, self._client._settings)

    def _sync_run(self, call: api.Call) -> Any:
        result = self._client._run(call)
        if asyncio.iscoroutine(result):
            result.close()
            raise TypeError("this model belongs to an AsyncClient: use async_predict/async_batch_predict")
        return result

    @contextlib.asynccontextmanager
    async def _async_transport(self) -> AsyncIterator[AsyncTransport]:
        owned = getattr(self._client, "transport", None)
        if isinstance(owned, AsyncTransport):
            yield owned
            return
        # A sync client's model: a transport for this event loop (asyncio.run makes a new one each time).
        transport = AsyncTransport(**self._client._settings)
        try:
            yield transport
        finally:
            await transport.close()


async def _call(transport: AsyncTransport, call: api.Call) -> Any:
    return call.parse(await transport.json(call.method, call.path, **call.kwargs))


class PredictionStream(Closing):
    """Predictions of one model over one persistent connection; close it when done."""

    def __init__(self, model: str, settings: Mapping[str, Any]) -> None:
        self.model = model
        self._transport = Transport(**settings)
        self.count = 0

    def predict(self, chunk: Any, **options: Any) -> Obj:
        """Predicts one chunk of data."""
        call = api.predict(self.model, chunk, **options)
        self.count += 1
        return call.parse(self._transport.json(call.method, call.path, **call.kwargs))

    def close(self) -> None:
        """Closes the connection."""
        self._transport.close()
