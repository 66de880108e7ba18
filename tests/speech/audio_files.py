"""Audio files made in memory for tests: silence, long audio, broken and non-audio payloads."""

from __future__ import annotations

import io
import wave

import numpy as np
import soundfile

#: The first bytes of a PNG image: a real file type that is not audio.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154"
)


def wav_bytes(samples: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> bytes:
    """A WAV file of float samples in [-1, 1] (interleaved when ``channels`` > 1)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        if width == 1:
            out.writeframes((np.clip(samples, -1, 1) * 127 + 128).astype(np.uint8).tobytes())
        else:
            out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def silence_wav(seconds: float, rate: int = 16000) -> bytes:
    """Digital silence."""
    return wav_bytes(np.zeros(int(seconds * rate)), rate)


def long_wav(seconds: float) -> bytes:
    """A quiet tone of ``seconds`` at 8 kHz, 8-bit (small on the wire)."""
    t = np.arange(int(seconds * 8000)) / 8000
    return wav_bytes(0.1 * np.sin(2 * np.pi * 220 * t), 8000, width=1)


def truncated_wav() -> bytes:
    """A WAV header that promises audio, with the data cut off."""
    return wav_bytes(np.zeros(16000), 16000)[:44]


def corrupted_flac() -> bytes:
    """A FLAC stream header followed by random bytes instead of frames."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(16000, dtype=np.float32), 16000, format="FLAC")
    header = buffer.getvalue()[:42]  # fLaC + STREAMINFO
    return header + np.random.default_rng(7).integers(0, 256, 20000, dtype=np.uint8).tobytes()


def resampled_stereo(wav: bytes, rate: int) -> bytes:
    """The same speech as stereo at another rate (decoding and resampling are the service's job)."""
    with wave.open(io.BytesIO(wav)) as src:
        mono = np.frombuffer(src.readframes(src.getnframes()), dtype="<i2").astype(np.float32) / 32767
        src_rate = src.getframerate()
    positions = np.arange(int(len(mono) * rate / src_rate)) * src_rate / rate
    resampled = np.interp(positions, np.arange(len(mono)), mono)
    stereo = np.repeat(resampled[:, None], 2, axis=1).reshape(-1)
    return wav_bytes(stereo, rate, channels=2)
