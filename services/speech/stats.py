"""Counters of the speech service, reported by GetSpeechStatus (and so by /metrics/tts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class SpeechStats:
    """Totals since the process started."""

    syntheses: int = 0
    synthesized_seconds: float = 0.0
    synthesized_characters: int = 0
    synthesis_busy_seconds: float = 0.0
    first_audio_seconds_total: float = 0.0
    transcriptions: int = 0
    transcribed_seconds: float = 0.0
    transcription_busy_seconds: float = 0.0
    in_flight: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    def synthesized(self, chars: int, audio_seconds: float, busy_seconds: float, first_audio: float) -> None:
        """Records a finished synthesis."""
        self.syntheses += 1
        self.synthesized_characters += chars
        self.synthesized_seconds += audio_seconds
        self.synthesis_busy_seconds += busy_seconds
        self.first_audio_seconds_total += first_audio

    def transcribed(self, audio_seconds: float, busy_seconds: float) -> None:
        """Records a finished transcription."""
        self.transcriptions += 1
        self.transcribed_seconds += audio_seconds
        self.transcription_busy_seconds += busy_seconds

    def failed(self, code: str) -> None:
        """Records a refused or failed request by reason code."""
        self.failures[code] += 1

    @property
    def tts_real_time_factor(self) -> float:
        """Wall time of synthesis per second of audio produced (0 before the first)."""
        return self.synthesis_busy_seconds / self.synthesized_seconds if self.synthesized_seconds else 0.0

    @property
    def stt_real_time_factor(self) -> float:
        """Wall time of transcription per second of audio (0 before the first)."""
        return self.transcription_busy_seconds / self.transcribed_seconds if self.transcribed_seconds else 0.0

    @property
    def mean_first_audio_seconds(self) -> float:
        """Mean time from request to first audio bytes."""
        return self.first_audio_seconds_total / self.syntheses if self.syntheses else 0.0
