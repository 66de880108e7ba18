"""Settings of the speech service (``MESHSERVE_SPEECH_*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.common.settings import DEFAULT_PORTS, ServiceSettings


class SpeechSettings(ServiceSettings):
    """Speech process settings."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_SPEECH_", extra="ignore")

    port: int = Field(DEFAULT_PORTS["speech"], description="gRPC port.")
    metering_enabled: bool = Field(
        True,
        description="Record each synthesis (characters) and transcription (audio seconds) with the auth service.",
    )
    metering_flush_seconds: float = Field(
        0.5, gt=0, description="How often usage records are sent, in batches."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the engines run; auto picks CUDA when a GPU is visible, else CPU."
    )
    preload: bool = Field(
        True,
        description="Load both engines in the background at start; gRPC health says NOT_SERVING until both "
        "have loaded (or failed: the next request that needs one retries it).",
    )
    default_voice: str = Field("en_US-joe-medium", description="TTS voice used when a request names none.")
    default_stt_model: str = Field("whisper-tiny", description="STT model used when a request names none.")
    max_text_chars: int = Field(4096, ge=1, description="Longest text one synthesis accepts, in characters.")
    max_audio_seconds: float = Field(600.0, gt=0, description="Longest audio one transcription accepts.")
    max_upload_bytes: int = Field(
        25 * 1024 * 1024, ge=1, description="Largest encoded audio one transcription accepts, in bytes."
    )
    stt_compute_type: str = Field(
        "auto", description="CTranslate2 compute type; auto is int8 on CPU and float16 on CUDA."
    )
    stt_beam_size: int = Field(1, ge=1, le=10, description="Beam size of Whisper decoding (1 is greedy).")
    stt_cpu_threads: int = Field(
        0, ge=0, description="CPU threads of the STT engine; 0 lets CTranslate2 pick."
    )
    tts_concurrency: int = Field(2, ge=1, description="Syntheses whose sentences may run at the same time.")
    stt_concurrency: int = Field(1, ge=1, description="Transcriptions that may decode at the same time.")
