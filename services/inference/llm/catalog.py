"""Which language models exist: the bundled SmolLM2 plus any configured on disk."""

from __future__ import annotations

from pathlib import Path

from services.common.bundled import SMOLLM2_GGUF
from services.common.errors import ModelNotFound
from services.inference.llm.model_dir import LLMSpec
from services.inference.llm.settings import GenerationSettings

BUNDLED_ID = "smollm2-135m-instruct"
DEFAULT_ALIASES = ("", "default")


class LLMCatalog:
    """Resolves a requested model name to what a worker loads."""

    def __init__(self, settings: GenerationSettings) -> None:
        self.settings = settings
        self.sources: dict[str, Path] = {}
        bundled = SMOLLM2_GGUF.path
        if bundled is not None:
            self.sources[BUNDLED_ID] = bundled
        for model_id, path in settings.models.items():
            self.sources[model_id] = Path(path)

    @property
    def ids(self) -> list[str]:
        """Every known language model id."""
        return sorted(self.sources)

    def resolve(self, name: str) -> LLMSpec:
        """The spec of a model; the default for '' or 'default'; MODEL_NOT_FOUND otherwise."""
        model_id = self.settings.default_model if name in DEFAULT_ALIASES else name
        source = self.sources.get(model_id)
        if source is None:
            raise ModelNotFound(
                f"language model {name!r} is not available",
                details={"model_id": name, "available_models": ", ".join(self.ids)},
                suggestion="use one of the available models, or 'default'",
            )
        return LLMSpec(model_id, source, self.settings.device, self.settings.max_batch)
