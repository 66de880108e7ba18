"""The speech core: validation and limits, streaming synthesis, transcription, counters. No transport.

CPU-heavy work (a sentence of Piper, a Whisper decode, encoding and decoding audio) runs in threads
so that the event loop keeps answering health checks and other streams meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass

import numpy as np

from services.common.errors import InferenceFailed, InvalidInput, MeshError, PayloadTooLarge
from services.speech import voices
from services.speech.audio import decode, is_silent, resample
from services.speech.codecs import (
    MAX_RATE,
    MIN_RATE,
    Encoder,
    available_formats,
    output_format,
    probe_formats,
)
from services.speech.engines import EngineSlot
from services.speech.settings import SpeechSettings
from services.speech.stats import SpeechStats
from services.speech.stt import (
    SttOptions,
    Transcript,
    WhisperEngine,
    cuda_for_ctranslate2,
    supported_languages,
)
from services.speech.tts import (
    PITCH_RANGE,
    SPEED_RANGE,
    VOLUME_RANGE,
    Controls,
    PiperEngine,
    cuda_for_onnxruntime,
)


@dataclass(frozen=True)
class SynthesisJob:
    """A synthesis as asked; zero speed/volume mean "normal"."""

    text: str
    voice: str = ""
    model: str = ""
    format: str = "wav"
    sample_rate: int = 0
    speed: float = 0.0
    pitch: float = 0.0
    volume: float = 0.0
    language: str = ""
    whole_file: bool = False


@dataclass(frozen=True)
class AudioPiece:
    """Encoded audio of one step of a synthesis."""

    audio: bytes
    sample_rate: int
    duration: float
    total_duration: float
    final: bool
    voice: str
    media_type: str
    format: str
    device: str


@dataclass(frozen=True)
class TranscriptionJob:
    """A transcription as asked."""

    model: str = ""
    language: str = ""
    task: str = ""
    word_timestamps: bool = False
    filename: str = ""
    prompt: str = ""
    temperature: float = 0.0


@dataclass(frozen=True)
class TranscriptionResult:
    """A transcript and what produced it."""

    transcript: Transcript
    model: str
    device: str
    task: str
    seconds: float


class SpeechCore:
    """TTS and STT behind limits, with counters."""

    def __init__(self, settings: SpeechSettings) -> None:
        self.settings = settings
        self.stats = SpeechStats()
        self.tts_device = self._device(cuda_for_onnxruntime)
        self.stt_device = self._device(cuda_for_ctranslate2)
        self.tts = EngineSlot("piper", self._load_piper)
        self.stt = EngineSlot("faster-whisper", self._load_whisper)
        self._tts_slots = asyncio.Semaphore(settings.tts_concurrency)
        self._stt_slots = asyncio.Semaphore(settings.stt_concurrency)
        self._probe: asyncio.Future[tuple[tuple[str, ...], dict[str, str]]] | None = None

    def _device(self, cuda_available: object) -> str:
        if self.settings.device == "cpu":
            return "cpu"
        return "cuda" if callable(cuda_available) and cuda_available() else "cpu"

    def start(self, *, engines: bool = True) -> None:
        """Probes the codecs and, when asked, starts loading both engines, all in the background."""
        # The probe encodes a little audio in every format; off the event loop, once.
        self._probe = asyncio.ensure_future(asyncio.to_thread(probe_formats))
        if engines:
            self.tts.start()
            self.stt.start()

    def _load_piper(self) -> PiperEngine:
        entry = voices.resolve(self.settings.default_voice, "tts", self.settings.default_voice)
        assert entry.asset is not None and entry.asset.path is not None
        engine = PiperEngine(entry.name, entry.asset.path, self.tts_device)
        engine.warm_up()
        return engine

    def _load_whisper(self) -> WhisperEngine:
        entry = voices.resolve(self.settings.default_stt_model, "stt", self.settings.default_stt_model)
        assert entry.asset is not None and entry.asset.path is not None
        s = self.settings
        engine = WhisperEngine(
            entry.name,
            entry.asset.path,
            self.stt_device,
            s.stt_compute_type,
            s.stt_beam_size,
            s.stt_cpu_threads,
        )
        engine.warm_up()
        return engine

    @property
    def limits(self) -> dict[str, str]:
        """Configured limits, by the names errors use."""
        s = self.settings
        return {
            "max_text_chars": str(s.max_text_chars),
            "max_audio_seconds": f"{s.max_audio_seconds:g}",
            "max_upload_bytes": str(s.max_upload_bytes),
            "sample_rate_range": f"{MIN_RATE}-{MAX_RATE}",
            "speed_range": f"{SPEED_RANGE[0]:g}-{SPEED_RANGE[1]:g}",
            "pitch_range_semitones": f"{PITCH_RANGE[0]:g}-{PITCH_RANGE[1]:g}",
            "volume_range": f"{VOLUME_RANGE[0]:g}-{VOLUME_RANGE[1]:g}",
        }

    # ---- synthesis -------------------------------------------------------------------------------

    async def synthesize(self, job: SynthesisJob) -> AsyncGenerator[AudioPiece, None]:
        """Encoded audio, a piece per sentence (or one whole file), then a final piece."""
        started = time.perf_counter()
        try:
            voice, controls, fmt_name, rate = self._check_synthesis(job)
            engine = await self.tts.get()
            if voice.name != engine.name:
                raise InvalidInput(f"voice {voice.name!r} is not loaded", details={"field": "voice"})
            out_rate = rate or engine.sample_rate
            encoder = Encoder(output_format(fmt_name), out_rate, whole_file=job.whole_file)
        except MeshError as error:
            self.stats.failed(error.code)
            raise
        sentences = engine.sentences(job.text.strip(), controls)
        total = 0.0
        first_at: float | None = None
        self.stats.in_flight += 1
        try:
            while True:
                async with self._tts_slots:
                    step = await asyncio.to_thread(
                        _next_encoded, sentences, engine.sample_rate, out_rate, encoder
                    )
                if step is None:
                    break
                data, seconds = step
                total += seconds
                if data:
                    if first_at is None:
                        first_at = time.perf_counter() - started
                    yield AudioPiece(
                        data, encoder.rate, seconds, total, False, engine.name, encoder.format.media_type,
                        encoder.format.name, engine.device,
                    )  # fmt: skip
            if total == 0.0:
                raise InvalidInput(
                    "the text has nothing speakable (no words after normalisation)", details={"field": "text"}
                )
            tail = await asyncio.to_thread(encoder.finish)
            if first_at is None:
                first_at = time.perf_counter() - started
            # Counted before the last yield: a caller may close the stream as soon as it has it.
            self.stats.synthesized(len(job.text), total, time.perf_counter() - started, first_at)
            yield AudioPiece(
                tail, encoder.rate, 0.0 if not job.whole_file else total, total, True, engine.name,
                encoder.format.media_type, encoder.format.name, engine.device,
            )  # fmt: skip
        except MeshError as error:
            self.stats.failed(error.code)
            raise
        finally:
            self.stats.in_flight -= 1
            encoder.close()

    def _check_synthesis(self, job: SynthesisJob) -> tuple[voices.VoiceEntry, Controls, str, int]:
        """Refuses bad synthesis requests with the limit or the choices in the message."""
        text = job.text.strip()
        limit = self.settings.max_text_chars
        if not text:
            raise InvalidInput("the text is empty: nothing to synthesize", details={"field": "text"})
        if "\x00" in job.text:  # the phonemizer takes C strings: a NUL would end the text early
            raise InvalidInput(
                f"the text contains a NUL character (U+0000) at position {job.text.index(chr(0))}",
                details={"field": "text"},
                suggestion="remove the NUL characters",
            )
        if len(job.text) > limit:
            raise InvalidInput(
                f"the text is {len(job.text)} characters long; the limit is {limit} characters",
                details={"field": "text", "max_text_chars": limit, "chars": len(job.text)},
                suggestion="split the text into several requests (MESHSERVE_SPEECH_MAX_TEXT_CHARS sets the limit)",
            )
        model = job.model.strip()
        if model and model.lower() not in (*voices.OPENAI_TTS_MODELS, "default", "piper"):
            # A catalogue name in the model field names the voice (001's model_name, for instance).
            model_entry = voices.resolve(model, "tts", self.settings.default_voice)
            voice = voices.resolve(job.voice or model_entry.name, "tts", self.settings.default_voice)
        else:
            voice = voices.resolve(job.voice, "tts", self.settings.default_voice)
        language = job.language.strip().lower().replace("_", "-").split("-")[0]
        if language and language not in voice.languages:
            raise InvalidInput(
                f"voice {voice.name!r} speaks {', '.join(voice.languages)}, not {job.language!r}",
                details={"field": "language", "voice": voice.name},
            )
        controls = Controls(
            speed=_in_range("speed", job.speed or 1.0, SPEED_RANGE),
            pitch=_in_range("pitch", job.pitch, PITCH_RANGE),
            volume=_in_range("volume", job.volume or 1.0, VOLUME_RANGE),
        )
        rate = job.sample_rate
        if rate and not MIN_RATE <= rate <= MAX_RATE:
            raise InvalidInput(
                f"sample_rate must be between {MIN_RATE} and {MAX_RATE} Hz (or 0 for the voice's own), got {rate}",
                details={"field": "sample_rate", "min": MIN_RATE, "max": MAX_RATE},
            )
        fmt = (job.format or "wav").lower()
        output_format(fmt)  # refuses unknown or unavailable formats, naming the ones that work
        return voice, controls, fmt, rate

    # ---- transcription ---------------------------------------------------------------------------

    def check_upload(self, size: int) -> None:
        """Refuses an upload once it passes the byte limit (called as bytes arrive)."""
        limit = self.settings.max_upload_bytes
        if size > limit:
            error = PayloadTooLarge(
                f"the audio upload is larger than the limit of {limit} bytes",
                details={"field": "file", "max_upload_bytes": limit},
                suggestion="send a shorter or more compressed file (MESHSERVE_SPEECH_MAX_UPLOAD_BYTES sets the limit)",
            )
            self.stats.failed(error.code)
            raise error

    async def transcribe(self, job: TranscriptionJob, data: bytes) -> TranscriptionResult:
        """Text, segments, timings and language of encoded audio in any common format."""
        started = time.perf_counter()
        self.stats.in_flight += 1
        try:
            entry, options = self._check_transcription(job)
            self.check_upload(len(data))
            decoded = await asyncio.to_thread(
                decode, data, max_seconds=self.settings.max_audio_seconds, filename=job.filename
            )
            engine = await self.stt.get()
            if entry.name != engine.name:
                raise InvalidInput(f"model {entry.name!r} is not loaded", details={"field": "model"})
            if is_silent(decoded.samples):
                # Silence is a valid input whose transcript is empty; Whisper would only guess at it.
                transcript = Transcript("", options.language, 0.0, decoded.seconds, [])
            else:
                async with self._stt_slots:
                    transcript = await asyncio.to_thread(engine.transcribe, decoded.samples, options)
            seconds = time.perf_counter() - started
            self.stats.transcribed(decoded.seconds, seconds)
            return TranscriptionResult(transcript, engine.name, engine.device, options.task, seconds)
        except MeshError as error:
            self.stats.failed(error.code)
            raise
        finally:
            self.stats.in_flight -= 1

    def _check_transcription(self, job: TranscriptionJob) -> tuple[voices.VoiceEntry, SttOptions]:
        entry = voices.resolve(job.model, "stt", self.settings.default_stt_model)
        language = job.language.strip().lower().replace("_", "-").split("-")[0]
        if language and language not in supported_languages():
            raise InvalidInput(
                f"unsupported language {job.language!r}; use an ISO-639-1 code such as 'en'",
                details={"field": "language"},
            )
        task = (job.task or "transcribe").lower()
        if task not in ("transcribe", "translate"):
            raise InvalidInput(
                f"unknown task {job.task!r}; use 'transcribe' or 'translate'", details={"field": "task"}
            )
        temperature = _in_range("temperature", job.temperature, (0.0, 1.0))
        options = SttOptions(language, task, job.word_timestamps, job.prompt, temperature)
        return entry, options

    # ---- status ----------------------------------------------------------------------------------

    @property
    def output_formats(self) -> tuple[str, ...]:
        """Output formats that encode here."""
        return available_formats()


def _in_range(name: str, value: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    if not np.isfinite(value) or not low <= value <= high:
        raise InvalidInput(
            f"{name} must be between {low:g} and {high:g}, got {value:g}",
            details={"field": name, "min": f"{low:g}", "max": f"{high:g}"},
        )
    return float(value)


def _next_encoded(
    sentences: Iterator[np.ndarray], voice_rate: int, out_rate: int, encoder: Encoder
) -> tuple[bytes, float] | None:
    """Synthesises the next sentence and encodes it (runs in a worker thread); None at the end."""
    try:
        audio = next(sentences, None)
    except Exception as exc:  # the engine's own failure, not the caller's
        raise InferenceFailed(f"speech synthesis failed: {exc.__class__.__name__}: {exc}") from exc
    if audio is None:
        return None
    if out_rate != voice_rate:
        audio = resample(audio, voice_rate, out_rate)
    return encoder.encode(audio), len(audio) / out_rate
