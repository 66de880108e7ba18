"""Piper text to speech: one loaded voice, synthesis sentence by sentence with speed, pitch and volume."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.speech.audio import apply_volume, pitch_and_tempo

log = logging.getLogger("meshserve.speech.tts")

SPEED_RANGE = (0.25, 4.0)  # OpenAI's documented range
PITCH_RANGE = (-12.0, 12.0)  # semitones
VOLUME_RANGE = (0.0, 4.0)


@dataclass(frozen=True)
class Controls:
    """Voice controls of one synthesis, already validated."""

    speed: float = 1.0
    pitch: float = 0.0
    volume: float = 1.0


class PiperEngine:
    """A Piper voice loaded once; thread-safe (onnxruntime sessions are)."""

    def __init__(self, name: str, model_path: Path, device: str) -> None:
        from piper import PiperVoice

        self.name = name
        self.device = device
        self.voice = PiperVoice.load(model_path, use_cuda=device == "cuda")
        self.sample_rate: int = self.voice.config.sample_rate

    def sentences(self, text: str, controls: Controls) -> Iterator[np.ndarray]:
        """Mono float32 audio per sentence, produced lazily (each ``next`` runs the model once)."""
        from piper import SynthesisConfig

        # Speed and pitch are applied to the natural-rate speech afterwards: Piper's own
        # length_scale rounds every phoneme up to whole frames, so speed 2 came out 1.55x faster
        # and speed 4 only 2x. The time stretch is exact.
        config = SynthesisConfig(volume=1.0)
        for chunk in self.voice.synthesize(text, syn_config=config):
            audio = chunk.audio_float_array.astype(np.float32, copy=False)
            audio = pitch_and_tempo(audio, self.sample_rate, controls.pitch, controls.speed)
            yield apply_volume(audio, controls.volume)

    def warm_up(self) -> None:
        """One tiny synthesis so the first request does not pay for graph initialisation."""
        for _ in self.sentences("Ready.", Controls()):
            pass


def cuda_for_onnxruntime() -> bool:
    """Whether onnxruntime can run on CUDA here."""
    try:
        import onnxruntime

        return "CUDAExecutionProvider" in onnxruntime.get_available_providers()
    except Exception:  # a broken onnxruntime install means "no"
        return False
