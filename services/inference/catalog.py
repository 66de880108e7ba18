"""What the inference service asks the registry: model signatures, artifacts (streamed through
``DownloadArtifact`` into a local content-addressed cache) and lifecycle reports."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

from meshserve.v1 import common_pb2 as common
from meshserve.v1 import registry_pb2 as rpb
from meshserve.v1 import registry_pb2_grpc as rpb_grpc
from services.common.clients import ChannelPool, call_metadata, unary_call
from services.common.context import remaining_seconds
from services.common.errors import MeshError, ModelLoadFailed, ModelNotFound
from services.common.single_flight import SingleFlight
from services.inference.repository import ModelSpec
from services.inference.tensors import spec_json

log = logging.getLogger("meshserve.inference.catalog")

FORMAT_NAMES = {common.MODEL_FORMAT_ONNX: "onnx", common.MODEL_FORMAT_TORCHSCRIPT: "torchscript"}


@dataclass(frozen=True)
class CatalogEntry:
    """A registry model version as the inference service needs it."""

    spec: ModelSpec
    model: common.Model

    @property
    def key(self) -> str:
        """``name@version``."""
        return f"{self.spec.name}@{self.spec.version}"


class RegistryCatalog:
    """Looks up models in the registry with a short cache (the predict hot path).

    A look-up older than ``ttl`` is asked again; while the registry cannot answer (UNAVAILABLE or
    past its deadline), one up to ``stale_seconds`` old is used instead, so a model already serving
    goes on serving through a registry restart. What the registry changed meanwhile (a new version
    as the newest, a deletion) is seen once it answers again.

    Concurrent look-ups of one model share one call: when an entry expires under load, the
    predictions that find it expired wait for the same ``GetModel`` instead of each sending their
    own (at 32 concurrent predictions that was about twenty calls per expiry).
    """

    def __init__(
        self,
        channels: ChannelPool,
        cache_dir: Path,
        timeout: float = 30.0,
        ttl: float = 2.0,
        stale_seconds: float = 300.0,
    ) -> None:
        self.channels = channels
        self._stub: rpb_grpc.RegistryServiceStub | None = None
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.ttl = ttl
        self.stale_seconds = stale_seconds
        #: Until when (monotonic) the registry is taken as unreachable: stale look-ups are used
        #: without asking again, so each prediction does not wait for the registry's deadline.
        self._unreachable_until = 0.0
        self._cache: dict[tuple[str, str], tuple[float, CatalogEntry]] = {}
        #: The look-up in flight per key, which concurrent callers share.
        self._asking: SingleFlight[tuple[str, str], CatalogEntry] = SingleFlight()
        #: Bumped by :meth:`forget`: a look-up sent before it does not fill the cache after it.
        self._generation = 0

    @property
    def stub(self) -> rpb_grpc.RegistryServiceStub:
        """The registry stub, created inside the running event loop on first use."""
        if self._stub is None:
            self._stub = rpb_grpc.RegistryServiceStub(self.channels.channel("registry"))
        return self._stub

    async def resolve(self, name: str, version: str = "") -> CatalogEntry:
        """The model version (newest when ``version`` is empty); MODEL_NOT_FOUND from the registry."""
        key = (name, version)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None:
            age = now - hit[0]
            if age < self.ttl or (now < self._unreachable_until and age < self.stale_seconds):
                return hit[1]
        return await self._asking.do(key, lambda: self._ask(key, hit, now))

    async def _ask(
        self, key: tuple[str, str], hit: tuple[float, CatalogEntry] | None, now: float
    ) -> CatalogEntry:
        """Asks the registry; on an outage, falls back to a stale ``hit``."""
        name, version = key
        generation = self._generation
        try:
            reply = await unary_call(
                self.stub.GetModel,
                rpb.GetModelRequest(ref=common.ModelRef(name=name, version=version)),
                timeout=min(self.timeout, 2.0 if hit is not None else 5.0),  # metadata only
                idempotent=True,
            )
        except MeshError as error:
            unreachable = error.grpc_code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
            if unreachable and hit is not None and now - hit[0] < self.stale_seconds:
                self._unreachable_until = time.monotonic() + self.ttl
                log.warning(
                    "registry unreachable; serving %s from a %.0f s old look-up",
                    name,
                    time.monotonic() - hit[0],
                    extra={"error": error.message},
                )
                return hit[1]
            raise
        model = reply.model
        spec = ModelSpec(
            name=model.name,
            version=model.version,
            format=FORMAT_NAMES.get(model.format, common.ModelFormat.Name(model.format)),
            inputs=spec_json(model.inputs),
            outputs=spec_json(model.outputs),
        )
        entry = CatalogEntry(spec, model)
        if generation == self._generation:
            self._cache[key] = (time.monotonic(), entry)
        return entry

    async def current(self, name: str, version: str = "") -> common.Model | None:
        """The registry's record of a model version now, never from the cache (the newest version
        when ``version`` is empty); None when the registry has none. Raises when it cannot answer."""
        try:
            reply = await unary_call(
                self.stub.GetModel,
                rpb.GetModelRequest(ref=common.ModelRef(name=name, version=version)),
                timeout=min(self.timeout, 5.0),
                idempotent=True,
            )
        except ModelNotFound:
            return None
        return reply.model

    def forget(self) -> None:
        """Drops cached look-ups (after loads and unloads); look-ups in flight are not shared after it."""
        self._cache.clear()
        self._asking.forget()
        self._generation += 1

    async def fetch(self, entry: CatalogEntry) -> Path:
        """The artifact on local disk, downloaded once per sha256 and renamed into place atomically."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        target = self.cache_dir / entry.model.sha256
        if target.exists():
            return target
        tmp = self.cache_dir / f".{entry.model.sha256}.{os.getpid()}.part"
        try:
            with tmp.open("wb") as handle:
                call = self.stub.DownloadArtifact(
                    rpb.DownloadArtifactRequest(
                        ref=common.ModelRef(name=entry.model.id, version=entry.spec.version)
                    ),
                    timeout=remaining_seconds(max(self.timeout, 300.0)),
                    metadata=call_metadata(),
                )
                async for part in call:
                    await asyncio.to_thread(handle.write, part.chunk)
            tmp.replace(target)
        except grpc.aio.AioRpcError as error:
            raise ModelLoadFailed(
                f"could not fetch the artifact of {entry.key}: {MeshError.from_rpc_error(error).message}",
                details={"model": entry.spec.name},
            ) from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return target

    async def report(self, entry: CatalogEntry, status: common.ModelStatus, reason: str = "") -> None:
        """Tells the registry about a lifecycle change; best effort (the registry may be restarting)."""
        try:
            await unary_call(
                self.stub.UpdateModelStatus,
                rpb.UpdateModelStatusRequest(
                    ref=common.ModelRef(name=entry.model.id, version=entry.spec.version),
                    status=status,
                    reason=reason,
                ),
                timeout=5.0,
                idempotent=True,
            )
        except MeshError as error:
            log.warning("could not report model status: %s", error.message)
