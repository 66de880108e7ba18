"""The speech catalogue: bundled engines (available offline) and downloadable ones (not here)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.common.bundled import PIPER_JOE_VOICE, WHISPER_TINY_DIR, BundledAsset
from services.common.errors import ModelNotFound, ModelNotLoaded


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
    VoiceEntry(
        "whisper-large-v3",
        "stt",
        "faster-whisper",
        ("multilingual",),
        16000,
        hub_id="Systran/faster-whisper-large-v3",
    ),
)

#: OpenAI TTS model names: they pick no engine of their own, the voice decides.
OPENAI_TTS_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts")


def installed(kind: str) -> list[VoiceEntry]:
    """Entries of a kind whose weights are here."""
    return [v for v in CATALOGUE if v.kind == kind and v.available]


def resolve(name: str, kind: str, default: str) -> VoiceEntry:
    """The catalogue entry a name (own name or alias) stands for; refuses unknown and absent ones fast."""
    wanted = (name or "").strip() or default
    entry = _lookup(wanted, kind) or _lookup(wanted.lower(), kind)
    noun = "voice" if kind == "tts" else "speech-to-text model"
    choices = ", ".join(f"{v.name} (aliases: {', '.join(v.aliases)})" for v in installed(kind)) or "none"
    if entry is None:
        raise ModelNotFound(
            f"unknown {noun} {wanted!r}; installed: {choices}",
            details={"model": wanted, "kind": kind, "installed": choices},
            suggestion=f"use one of the installed ones: {choices}",
        )
    if not entry.available:
        # Never try a download: this machine is offline and the engine would hang on the hub.
        raise ModelNotLoaded(
            f"{noun} {entry.name!r} ({entry.engine}) is listed but cannot run here: {entry.unavailable_reason}; "
            f"installed: {choices}",
            details={
                "model": entry.name,
                "engine": entry.engine,
                "hub_id": entry.hub_id,
                "installed": choices,
            },
            suggestion=f"use an installed {noun}: {choices}",
        )
    return entry


def _lookup(name: str, kind: str) -> VoiceEntry | None:
    for entry in CATALOGUE:
        if entry.kind == kind and (name == entry.name or name in entry.aliases):
            return entry
    return None
