"""Audio in and out of numpy: decoding any common container with PyAV, resampling, pitch and volume.

Samples are mono float32 in [-1, 1] everywhere inside the service.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from services.common.errors import InvalidInput, PayloadTooLarge

#: Whisper's input rate.
STT_RATE = 16_000


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded, downmixed and resampled audio."""

    samples: np.ndarray
    sample_rate: int
    source_format: str
    source_rate: int
    source_channels: int

    @property
    def seconds(self) -> float:
        """Duration."""
        return len(self.samples) / self.sample_rate


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Mono float32 samples at another rate (libswresample through PyAV)."""
    if from_rate == to_rate or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=to_rate)
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples, dtype=np.float32)[None, :], format="flt", layout="mono"
    )
    frame.sample_rate = from_rate
    parts = [f.to_ndarray()[0] for f in resampler.resample(frame)]
    parts += [f.to_ndarray()[0] for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)


def time_stretch(samples: np.ndarray, rate: int, tempo: float) -> np.ndarray:
    """Samples played ``tempo`` times faster at the same pitch (ffmpeg's WSOLA ``atempo`` filter).

    The duration comes out divided by ``tempo`` to the sample: ``atempo`` keeps back its last
    partial window, so the input gets a short silent tail and the output is cut to length.
    Factors outside ``atempo``'s best range [0.5, 2] run as a chain of stages inside it, as
    ffmpeg advises.
    """
    if tempo == 1.0 or len(samples) == 0:
        return samples
    target = round(len(samples) / tempo)
    padded = np.concatenate([samples, np.zeros(rate // 10, np.float32)])
    graph = av.filter.Graph()
    node = graph.add_abuffer(format="flt", sample_rate=rate, layout="mono", time_base=Fraction(1, rate))
    for stage in _atempo_stages(tempo):
        stretch = graph.add("atempo", f"{stage:.6f}")
        node.link_to(stretch)
        node = stretch
    sink = graph.add("abuffersink")
    node.link_to(sink)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(
        padded.astype(np.float32, copy=False)[None, :], format="flt", layout="mono"
    )
    frame.sample_rate, frame.pts = rate, 0
    graph.push(frame)
    graph.push(None)
    parts: list[np.ndarray] = []
    while True:
        try:
            parts.append(graph.pull().to_ndarray()[0])
        except (av.error.BlockingIOError, av.error.EOFError):
            break
    stretched = np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
    return np.pad(stretched[:target], (0, max(0, target - len(stretched))))


def _atempo_stages(tempo: float) -> list[float]:
    """``tempo`` as a product of factors in [0.5, 2]."""
    stages: list[float] = []
    while tempo > 2.0:
        stages.append(2.0)
        tempo /= 2.0
    while tempo < 0.5:
        stages.append(0.5)
        tempo /= 0.5
    return [*stages, tempo]


def pitch_and_tempo(samples: np.ndarray, rate: int, semitones: float, speed: float) -> np.ndarray:
    """Pitch moved by ``semitones`` and the speech made ``speed`` times faster, both exactly.

    Resampling raises the pitch by the factor and shortens by it too; the time stretch then
    takes the duration to the one asked for (the original divided by ``speed``).
    """
    factor = pitch_factor(semitones)
    shifted = samples if factor == 1.0 else resample(samples, round(rate * factor), rate)
    return time_stretch(shifted, rate, speed / factor)


def pitch_factor(semitones: float) -> float:
    """Frequency ratio of a pitch shift in semitones."""
    return 1.0 if semitones == 0 else float(2.0 ** (semitones / 12.0))


def apply_volume(samples: np.ndarray, volume: float) -> np.ndarray:
    """Samples scaled by ``volume`` and clipped to [-1, 1]."""
    if volume == 1.0:
        return samples
    return np.clip(samples * volume, -1.0, 1.0).astype(np.float32, copy=False)


def to_int16(samples: np.ndarray) -> np.ndarray:
    """16-bit PCM of float samples."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")


def decode(data: bytes, *, max_seconds: float, filename: str = "", rate: int = STT_RATE) -> DecodedAudio:
    """Any common audio container (WAV, FLAC, MP3, Ogg/Opus, M4A, WebM…) as mono float32 at ``rate``.

    Raises InvalidInput for empty, non-audio or corrupted data and PayloadTooLarge past ``max_seconds``.
    """
    if not data:
        raise InvalidInput("the audio is empty (0 bytes)", details={"field": "file"})
    shown = f" {filename!r}" if filename else ""
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise InvalidInput(
            f"the upload{shown} is not audio in a format that can be decoded ({exc.__class__.__name__})",
            details={"field": "file", "bytes": len(data)},
            suggestion="send WAV, FLAC, MP3, Ogg/Opus, M4A/AAC or WebM audio",
        ) from None
    with container:
        if not container.streams.audio:
            raise InvalidInput(
                f"the upload{shown} has no audio stream (detected container: {container.format.name})",
                details={"field": "file", "container": container.format.name},
                suggestion="send WAV, FLAC, MP3, Ogg/Opus, M4A/AAC or WebM audio",
            )
        stream = container.streams.audio[0]
        source_rate = stream.codec_context.sample_rate or 0
        channels = stream.codec_context.channels or 0
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        limit = int(max_seconds * rate)
        parts: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                # Some decoders emit frames without a layout; give them one so downmixing works.
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray()[0]
                    parts.append(chunk)
                    total += len(chunk)
                if total > limit:
                    raise PayloadTooLarge(
                        f"the audio is longer than the limit of {max_seconds:g} seconds",
                        details={"field": "file", "max_audio_seconds": f"{max_seconds:g}"},
                        suggestion="split it into shorter pieces (MESHSERVE_SPEECH_MAX_AUDIO_SECONDS sets the limit)",
                    )
            for out in resampler.resample(None):
                parts.append(out.to_ndarray()[0])
        except (av.error.FFmpegError, ValueError) as exc:
            raise InvalidInput(
                f"the audio{shown} is corrupted and could not be decoded: {exc}",
                details={"field": "file", "container": container.format.name},
            ) from None
        fmt = container.format.name
    samples = np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
    if len(samples) == 0:
        raise InvalidInput(
            f"the audio{shown} holds no decodable samples (corrupted or empty)",
            details={"field": "file", "container": fmt},
        )
    if not np.all(np.isfinite(samples)):
        samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    return DecodedAudio(samples, rate, fmt, source_rate, channels)


def is_silent(samples: np.ndarray, threshold_dbfs: float = -60.0) -> bool:
    """Whether the audio's RMS level is below ``threshold_dbfs`` (digital or near silence)."""
    if len(samples) == 0:
        return True
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return rms <= 0 or 20 * math.log10(rms) < threshold_dbfs
