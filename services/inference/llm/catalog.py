"""Which language models exist: the bundled SmolLM2, any configured on disk, and any the registry holds.

Names are looked up in that order. A name the process does not know is asked of the registry: a
``text-generation`` model stored there as GGUF (a file) or as an archive of a Hugging Face directory
is fetched once (by sha256) into the inference service's artifact cache (the archive extracted,
pickles left out) and served by the same engine as the bundled model. A new version of a
registered model has another sha256 and so another Triton model name (:attr:`LLMSpec.triton_name`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from meshserve.v1 import common_pb2 as common
from services.common.bundled import SMOLLM2_GGUF
from services.common.errors import InvalidInput, MeshError, ModelLoadFailed, ModelNotFound
from services.common.gguf_quant import quantize
from services.common.model_archive import ModelArchive, UnsafeArchive
from services.inference.llm.engines import is_gguf
from services.inference.llm.model_dir import LLMSpec
from services.inference.llm.settings import GenerationSettings

if TYPE_CHECKING:
    from services.inference.catalog import CatalogEntry

log = logging.getLogger("meshserve.llm")

BUNDLED_ID = SMOLLM2_GGUF.model_id
DEFAULT_ALIASES = ("", "default")
#: Registry formats the engine loads, and the name each is given on disk (a file or a directory).
SERVABLE_FORMATS = {common.MODEL_FORMAT_GGUF: "model.gguf", common.MODEL_FORMAT_TRANSFORMERS: "model"}


class RegistryLookup(Protocol):
    """What the catalog needs of the registry (:class:`services.inference.catalog.RegistryCatalog`)."""

    #: The inference service's artifact cache (one file per sha256).
    cache_dir: Path

    async def resolve(self, name: str, version: str = "") -> CatalogEntry:
        """The newest version of a model (an entry with ``.model``, a ``common.Model``)."""
        ...

    async def fetch(self, entry: CatalogEntry) -> Path:
        """The entry's artifact on local disk."""
        ...


class LLMCatalog:
    """Resolves a requested model name to what a worker loads."""

    def __init__(self, settings: GenerationSettings, registry: RegistryLookup | None = None) -> None:
        self.settings = settings
        self.registry = registry
        self.sources: dict[str, Path] = {}
        bundled = SMOLLM2_GGUF.path
        if bundled is not None:
            self.sources[BUNDLED_ID] = bundled
        for model_id, path in settings.models.items():
            self.sources[model_id] = Path(path)
        self._fetching: dict[str, asyncio.Lock] = {}
        #: Quantized variants a load asked for, served under the model's own id until unloaded.
        self.variants: dict[str, LLMSpec] = {}

    @property
    def ids(self) -> list[str]:
        """Every language model id this process knows without asking the registry."""
        return sorted(self.sources)

    async def resolve(self, name: str) -> LLMSpec:
        """The spec of a model; the default for '' or 'default'; MODEL_NOT_FOUND otherwise."""
        model_id = self.settings.default_model if name in DEFAULT_ALIASES else name
        variant = self.variants.get(model_id)
        if variant is not None:
            return variant
        source = self.sources.get(model_id)
        if source is not None:
            return self._spec(model_id, source)
        if self.registry is not None:
            return await self._from_registry(model_id, name)
        raise self._not_found(name)

    def _registry(self) -> RegistryLookup:
        """The registry, on the paths that only run with one (models registered by upload or import)."""
        if self.registry is None:
            raise MeshError("language models from the registry need the registry service")
        return self.registry

    async def _from_registry(self, model_id: str, asked: str) -> LLMSpec:
        try:
            entry = await self._registry().resolve(model_id)
        except ModelNotFound:
            raise self._not_found(asked) from None
        model: common.Model = entry.model
        if model.task != common.MODEL_TASK_TEXT_GENERATION or model.format not in SERVABLE_FORMATS:
            kind = common.ModelFormat.Name(model.format).removeprefix("MODEL_FORMAT_").lower()
            raise ModelNotFound(
                f"model {asked!r} is a {kind} model, not a language model",
                details={"model_id": asked, "format": kind, "available_models": list(self.ids)},
                suggestion="register a GGUF or Hugging Face language model under that name, or use 'default'",
            )
        if not model.sha256:
            raise self._not_found(asked)
        unpack = _extract if model.format == common.MODEL_FORMAT_TRANSFORMERS else _link_or_copy
        path = await self._materialize(entry, SERVABLE_FORMATS[model.format], unpack)
        return self._spec(model.name, path, revision=model.sha256[:12])

    def _spec(self, model_id: str, source: Path, revision: str = "") -> LLMSpec:
        """A spec with this service's engine settings."""
        settings = self.settings
        return LLMSpec(
            model_id,
            source,
            settings.device,
            settings.max_batch,
            revision=revision,
            engine=settings.engine,
            threads=settings.threads,
            context_tokens=settings.context_tokens,
            adaptive_threads=settings.adaptive_threads,
            cpu_turns=settings.cpu_turns,
        )

    async def _materialize(
        self, entry: CatalogEntry, filename: str, unpack: Callable[[Path, Path], None]
    ) -> Path:
        """The artifact as ``<cache>/llm/<sha256>/<filename>`` (fetched once, then linked or extracted)."""
        sha = entry.model.sha256
        target = self._registry().cache_dir / "llm" / sha / filename
        if target.exists():
            return target
        lock = self._fetching.setdefault(sha, asyncio.Lock())
        async with lock:
            if not target.exists():
                cached = await self._registry().fetch(entry)
                await asyncio.to_thread(unpack, cached, target)
                log.info(
                    "language model fetched from the registry", extra={"sha256": sha, "path": str(target)}
                )
        return target

    async def quantized(self, spec: LLMSpec, kind: str, directory: Path) -> LLMSpec:
        """The model (as stored: resolve it with no variant in force) re-quantized to ``kind`` by
        llama.cpp, written once under ``directory``; from now on its id resolves to this variant,
        until :meth:`forget_variant`."""
        if not spec.source.is_file() or not is_gguf(spec.source):
            raise InvalidInput(
                f"model {spec.model_id!r} is not a GGUF file: only GGUF models are quantized on load",
                details={"field": "quantization", "model_id": spec.model_id},
                suggestion="register the model as GGUF, or load it without quantization",
            )
        original = spec
        target = directory / f"{original.triton_name}-{kind}.gguf"
        if not target.exists():
            lock = self._fetching.setdefault(str(target), asyncio.Lock())
            async with lock:
                if not target.exists():
                    target.parent.mkdir(parents=True, exist_ok=True)
                    log.info("quantizing language model", extra={"model": spec.model_id, "type": kind})
                    await asyncio.to_thread(quantize, original.source, target, kind)
        variant = replace(original, source=target, revision=f"{original.revision}{kind.lower()}")
        self.variants[spec.model_id] = variant
        return variant

    def forget_variant(self, model_id: str) -> LLMSpec | None:
        """Serves the model as stored again; the variant that served it, if any."""
        return self.variants.pop(model_id, None)

    def _not_found(self, name: str) -> MeshError:
        return ModelNotFound(
            f"language model {name!r} is not available",
            details={"model_id": name, "available_models": list(self.ids)},
            suggestion="use one of the available models or 'default', or register a language model under that name",
        )


def _extract(source: Path, target: Path) -> None:
    """Extracts a model directory archive to ``target`` (pickled weights left out)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with ModelArchive(source) as archive:
            archive.extract(target)
    except UnsafeArchive as error:  # the registry checked it; reaching here means a damaged cache
        raise ModelLoadFailed(f"cannot unpack the model archive: {error}") from None


def _link_or_copy(source: Path, target: Path) -> None:
    """Places ``source`` at ``target`` atomically: a hard link where possible, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    try:
        os.link(source, partial)
    except OSError:
        shutil.copyfile(source, partial)
    partial.replace(target)
