"""The speech catalogue: bundled engines (available offline) and downloadable ones (not here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.common.bundled import PIPER_JOE_VOICE, WHISPER_TINY_DIR, BundledAsset


@dataclass(frozen=True)
class VoiceEntry:
    """A TTS voice or STT model."""

    name: str
    kind: str
    engine: str
    languages: tuple[str, ...]
    sample_rate: int
    asset: BundledAsset | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    hub_id: str = ""

    @property
    def available(self) -> bool:
        """Whether the weights are on this machine."""
        return self.asset is not None and self.asset.path is not None

    @property
    def unavailable_reason(self) -> str:
        """Why it cannot run here, when it cannot."""
        if self.available:
            return ""
        if self.asset is not None:
            return f"package {self.asset.package} is not installed"
        return f"weights must be downloaded from the Hugging Face hub ({self.hub_id}); not available offline"


OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer")

CATALOGUE: tuple[VoiceEntry, ...] = (
    VoiceEntry(
        "en_US-joe-medium",
        "tts",
        "piper",
        ("en",),
        22050,
        PIPER_JOE_VOICE,
        aliases=("default", *OPENAI_VOICES),
    ),
    VoiceEntry(
        "whisper-tiny",
        "stt",
        "faster-whisper",
        ("multilingual",),
        16000,
        WHISPER_TINY_DIR,
        aliases=("default", "whisper-1"),
    ),
    VoiceEntry("speecht5_tts", "tts", "transformers", ("en",), 16000, hub_id="microsoft/speecht5_tts"),
    VoiceEntry("bark", "tts", "transformers", ("multilingual",), 24000, hub_id="suno/bark"),
    VoiceEntry(
        "tacotron2", "tts", "speechbrain", ("en",), 22050, hub_id="speechbrain/tts-tacotron2-ljspeech"
    ),
)
