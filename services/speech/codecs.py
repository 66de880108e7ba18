"""Output encoders: WAV, FLAC, Ogg/Opus, MP3, AAC (PyAV/FFmpeg) and raw PCM, fed chunk by chunk.

An :class:`Encoder` takes mono float32 chunks and hands back the encoded bytes ready so far, so a
stream can send each sentence as soon as it is synthesised; the concatenation of every piece is one
valid file. Streamed WAV and FLAC cannot know their length up front: their headers say "unknown"
(what FFmpeg writes to an unseekable output). With ``whole_file`` the encoder writes to a seekable
buffer instead and the headers carry exact sizes and totals.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from functools import cache
from typing import cast

import av
import numpy as np

from services.common.errors import InvalidInput
from services.speech.audio import resample, to_int16


@dataclass(frozen=True)
class OutputFormat:
    """How one output format is muxed and encoded."""

    name: str
    container: str
    codec: str
    media_type: str
    #: Rates the codec accepts; empty means any.
    rates: tuple[int, ...] = ()


FORMATS: dict[str, OutputFormat] = {
    f.name: f
    for f in (
        OutputFormat("wav", "wav", "pcm_s16le", "audio/wav"),
        OutputFormat("flac", "flac", "flac", "audio/flac"),
        OutputFormat("opus", "ogg", "libopus", "audio/ogg", (48000, 24000, 16000, 12000, 8000)),
        OutputFormat(
            "mp3",
            "mp3",
            "libmp3lame",
            "audio/mpeg",
            (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000),
        ),
        OutputFormat(
            "aac", "adts", "aac", "audio/aac", (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
        ),
        OutputFormat("pcm", "", "", "audio/pcm"),
    )
}

MIN_RATE, MAX_RATE = 8000, 48000


class _Sink:
    """An unseekable file object collecting what the muxer writes."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def encoded_rate(fmt: OutputFormat, wanted: int) -> int:
    """The rate a format will carry: the wanted one, or the nearest higher rate its codec takes."""
    if not fmt.rates or wanted in fmt.rates:
        return wanted
    higher = [r for r in fmt.rates if r >= wanted]
    return min(higher) if higher else max(fmt.rates)


def output_format(name: str) -> OutputFormat:
    """A supported output format by name; InvalidInput naming the choices otherwise."""
    fmt = FORMATS.get(name.lower())
    if fmt is None or name.lower() not in available_formats():
        raise InvalidInput(
            f"unsupported output format {name!r}",
            details={"field": "format", "supported": ",".join(available_formats())},
            suggestion=f"use one of: {', '.join(available_formats())}",
        )
    return fmt


class Encoder:
    """Encodes mono float32 chunks at ``rate`` into ``fmt``, piece by piece.

    Calls may come from worker threads while a cancelled stream closes the encoder from the event
    loop: a lock keeps FFmpeg from being used and freed at once, and a closed encoder encodes nothing.
    """

    def __init__(self, fmt: OutputFormat, rate: int, *, whole_file: bool = False) -> None:
        self.format = fmt
        self.rate = encoded_rate(fmt, rate)
        self._input_rate = rate
        self._whole = whole_file
        self._container = None
        self._lock = threading.Lock()
        self._closed = False
        if not fmt.container:
            return
        self._target: _Sink | io.BytesIO = io.BytesIO() if whole_file else _Sink()
        # Ogg pages default to a second of audio; shorter pages let a sentence leave at once.
        options = {"page_duration": "100000"} if fmt.container == "ogg" else {}
        self._container = av.open(self._target, mode="w", format=fmt.container, options=options)
        self._stream = cast(
            av.audio.stream.AudioStream, self._container.add_stream(fmt.codec, rate=self.rate, layout="mono")
        )
        sample_format = "s16" if fmt.codec == "pcm_s16le" else self._stream.codec_context.format.name
        self._resampler = av.AudioResampler(format=sample_format, layout="mono", rate=self.rate)

    def encode(self, samples: np.ndarray) -> bytes:
        """Bytes ready after feeding ``samples`` (may be empty while the codec buffers)."""
        if self._container is None:
            return to_int16(resample(samples, self._input_rate, self.rate)).tobytes()
        with self._lock:
            if self._closed:
                return b""
            return self._encode(samples)

    def _encode(self, samples: np.ndarray) -> bytes:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32)[None, :], format="flt", layout="mono"
        )
        frame.sample_rate = self._input_rate
        self._mux(self._resampler.resample(frame))
        return self._take()

    def finish(self) -> bytes:
        """Flushes the codec and closes the container; the last bytes (all of them for whole files)."""
        if self._container is None:
            return b""
        with self._lock:
            if self._closed:
                return b""
            self._mux(self._resampler.resample(None))
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            self._container.close()
            self._closed = True
        if isinstance(self._target, io.BytesIO):
            return self._target.getvalue()
        return self._target.take()

    def close(self) -> None:
        """Releases the container when a stream ends early."""
        if self._container is None:
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._container.close()
            except (av.error.FFmpegError, ValueError):
                pass

    def _mux(self, frames: list[av.AudioFrame]) -> None:
        for frame in frames:
            for packet in self._stream.encode(frame):
                self._container.mux(packet)  # type: ignore[union-attr]

    def _take(self) -> bytes:
        if isinstance(self._target, io.BytesIO):
            return b""  # the whole file comes at finish(), with its final headers
        return self._target.take()


def encode_all(samples: np.ndarray, rate: int, fmt: OutputFormat) -> bytes:
    """One whole file."""
    encoder = Encoder(fmt, rate, whole_file=True)
    return encoder.encode(samples) + encoder.finish()


@cache
def probe_formats() -> tuple[tuple[str, ...], dict[str, str]]:
    """Output formats that really encode here (a tenth of a second each), and why the others fail."""
    ok: list[str] = []
    failed: dict[str, str] = {}
    tone = (0.1 * np.sin(np.linspace(0, 2 * np.pi * 44, 2205))).astype(np.float32)
    for name, fmt in FORMATS.items():
        try:
            if not encode_all(tone, 22050, fmt):
                raise RuntimeError("encoder produced no bytes")
            ok.append(name)
        except Exception as exc:  # any codec failure means "not available here"
            failed[name] = f"{exc.__class__.__name__}: {exc}"
    return tuple(ok), failed


def available_formats() -> tuple[str, ...]:
    """Names of the output formats that work here."""
    return probe_formats()[0]


@cache
def input_formats() -> tuple[str, ...]:
    """Common audio containers FFmpeg can demux here."""
    common = ("wav", "flac", "mp3", "ogg", "webm", "matroska", "mov", "aac", "aiff", "caf", "amr")
    known = av.formats_available
    return tuple(n for n in common if n in known or any(n in k.split(",") for k in known))
