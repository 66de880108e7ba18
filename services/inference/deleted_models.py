"""Lets go of what this replica holds of models that the registry no longer has.

Each inference replica loads its own copies of models. A deletion (``DELETE /v1/models/{id}``
through the gateway, or the registry's ``DeleteModel`` called directly) unloads them on one replica
at most. The others would go on holding the deleted model's memory, and listing it, until they
stopped. So every ``period`` seconds each replica asks the registry (never its cache) about every
model it has placed, and lets go of those that are gone:

* a tensor model version whose registry record is gone, or was replaced by another record of the
  same name and version, is unloaded from every worker, and its placement and files are dropped;
* a language model from the registry is unloaded when its name is gone, or when a newer version
  now serves the name. A model that is bundled, or configured by path, is not the registry's to
  delete.

A registry that cannot answer lets go of nothing: the next round asks again.
"""

from __future__ import annotations

import asyncio
import logging

from services.common.errors import MeshError
from services.inference.catalog import RegistryCatalog
from services.inference.llm.model_dir import LLMSpec
from services.inference.llm.service import GenerationService
from services.inference.predictor import Predictor

log = logging.getLogger("meshserve.inference.deleted_models")


class DeletedModelSweep:
    """Finds the placed models that the registry no longer has, and lets go of them."""

    def __init__(
        self,
        predictor: Predictor,
        generation: GenerationService,
        catalog: RegistryCatalog,
        period: float,
    ) -> None:
        self.predictor = predictor
        self.generation = generation
        self.catalog = catalog
        self.period = period

    async def sweep(self) -> list[str]:
        """One round; returns the Triton names it let go of."""
        gone: list[str] = []
        for tname, entry in list(self.predictor.entries.items()):
            record = await self.catalog.current(entry.spec.name, entry.spec.version)
            if record is None or record.id != entry.model.id:
                await self.predictor.discard(tname)
                gone.append(tname)
        for spec in self._language_models_from_the_registry():
            record = await self.catalog.current(spec.model_id)
            if record is None or not spec.revision.startswith(record.sha256[:12]):
                if self.generation.catalog.variants.get(spec.model_id) == spec:
                    self.generation.catalog.forget_variant(spec.model_id)
                # Only these weights: a newer version of the name may be serving beside them.
                await self.generation.placer.unload(spec)
                gone.append(spec.triton_name)
        if gone:
            log.info("models the registry no longer has were let go", extra={"models": gone})
        return gone

    def _language_models_from_the_registry(self) -> list[LLMSpec]:
        """Language models placed now that came from the registry, once each."""
        configured = self.generation.catalog.sources
        placed = {spec.triton_name: spec for spec, _ in self.generation.placer.placed()}
        return [s for s in placed.values() if s.revision and s.model_id not in configured]

    async def run(self) -> None:
        """Sweeps every ``period`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.period)
            try:
                await self.sweep()
            except MeshError as error:  # the registry is away: nothing is let go this round
                log.warning("deleted models not checked: %s", error.message)
