"""Speech benchmark: time to first audio byte and real-time factors of text to speech and speech to
text, in one run, on three paths side by side:

- ``engine``: the speech core in this process (Piper and faster-whisper plus the codecs; no transport),
- ``grpc``: the speech service directly over gRPC (``Synthesize`` server stream, ``Transcribe``),
- ``gateway``: HTTP through the gateway (``/v1/audio/speech`` read as it streams,
  ``/v1/audio/transcriptions``).

Cells are medians over ``--repeats``; within a repeat the three paths run back to back in a rotating
order, so that a busy neighbour on a shared machine slows them alike. The gateway's added percentage is
gateway over direct gRPC (what the HTTP hop adds); RTF = seconds taken / seconds of audio. The STT clip
is made by the TTS itself. The targets are issue 5's.

    python bench/speech.py [--repeats 6]                  # starts its own mesh on free ports
    python bench/speech.py --gateway URL --speech HOST:PORT  # measures a running mesh
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from meshserve.v1 import speech_pb2 as pb
from meshserve.v1 import speech_pb2_grpc as pb_grpc
from services.speech.core import SpeechCore, SynthesisJob, TranscriptionJob
from services.speech.settings import SpeechSettings

ONE_SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
PARAGRAPH = (
    "Meshserve runs every model behind one gateway. Speech is synthesised sentence by sentence. "
    "The first sentence is sent before the rest is ready. Transcription accepts any common format. "
    "Whisper tiny runs on the processor when no graphics card is present."
)
#: Text of the STT clip: about 12 seconds of speech with this voice.
CLIP_TEXT = (
    "Good morning, and welcome to the weekly status meeting. The new release went out on Tuesday "
    "without any problems. Next week we will measure the speech service on a larger machine. "
    "Thank you all for joining, and see you next Monday."
)
PATHS = ("engine", "grpc", "gateway")
TIMEOUT = 120.0
#: Idle gap before each call: onnxruntime and CTranslate2 worker threads spin a while after their work,
#: and would otherwise bill the next call (of another path) for it.
SETTLE_SECONDS = 0.2

#: (measurement, target on the gateway path); None where the issue sets no target.
MEASUREMENTS: tuple[tuple[str, float | None], ...] = (
    ("TTS 1 sentence: first audio ms", 300.0),
    ("TTS 1 sentence: RTF", 0.1),
    ("TTS 5 sentences: first audio ms", None),
    ("TTS 5 sentences: RTF", None),
    ("STT clip: RTF", 0.3),
)
MAX_ADDED_PERCENT = 10.0


@dataclass(frozen=True)
class Synthesis:
    """One timed synthesis."""

    first_seconds: float
    total_seconds: float
    audio: bytes


@dataclass(frozen=True)
class Transcription:
    """One timed transcription."""

    seconds: float
    text: str


class Paths:
    """The three ways to reach the engines, with one call shape each for TTS and STT."""

    def __init__(self, core: SpeechCore, stub: pb_grpc.SpeechServiceStub, http: httpx.AsyncClient) -> None:
        self.core, self.stub, self.http = core, stub, http

    def tts(self, path: str) -> Callable[[str], Awaitable[Synthesis]]:
        """The synthesis function of a path."""
        return {"engine": self.engine_tts, "grpc": self.grpc_tts, "gateway": self.gateway_tts}[path]

    def stt(self, path: str) -> Callable[[bytes], Awaitable[Transcription]]:
        """The transcription function of a path."""
        return {"engine": self.engine_stt, "grpc": self.grpc_stt, "gateway": self.gateway_stt}[path]

    async def engine_tts(self, text: str) -> Synthesis:
        """Streamed synthesis on the in-process core: first encoded piece and the end."""
        started = time.perf_counter()
        first = 0.0
        audio = bytearray()
        async for piece in self.core.synthesize(SynthesisJob(text=text, voice="alloy", format="wav")):
            if not first and piece.audio:
                first = time.perf_counter() - started
            audio += piece.audio
        return Synthesis(first, time.perf_counter() - started, bytes(audio))

    async def grpc_tts(self, text: str) -> Synthesis:
        """Streamed synthesis over gRPC."""
        started = time.perf_counter()
        first = 0.0
        audio = bytearray()
        request = pb.SynthesizeRequest(text=text, voice="alloy", format=pb.AUDIO_FORMAT_WAV)
        async for piece in self.stub.Synthesize(request, timeout=TIMEOUT):
            if not first and piece.audio:
                first = time.perf_counter() - started
            audio += piece.audio
        return Synthesis(first, time.perf_counter() - started, bytes(audio))

    async def gateway_tts(self, text: str) -> Synthesis:
        """Synthesis through the gateway, reading the chunked body as it arrives."""
        started = time.perf_counter()
        first = 0.0
        audio = bytearray()
        body = {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"}
        async with self.http.stream("POST", "/v1/audio/speech", json=body) as response:
            response.raise_for_status()
            async for chunk in response.aiter_raw():
                if not first and chunk:
                    first = time.perf_counter() - started
                audio += chunk
        return Synthesis(first, time.perf_counter() - started, bytes(audio))

    async def engine_stt(self, wav: bytes) -> Transcription:
        """Transcription on the in-process core (decoding included)."""
        started = time.perf_counter()
        result = await self.core.transcribe(TranscriptionJob(filename="clip.wav", language="en"), wav)
        return Transcription(time.perf_counter() - started, result.transcript.text)

    async def grpc_stt(self, wav: bytes) -> Transcription:
        """Transcription over gRPC (config, then the audio in 1 MiB messages)."""

        async def messages():
            yield pb.TranscribeRequest(config=pb.TranscribeConfig(filename="clip.wav", language="en"))
            for i in range(0, len(wav), 1 << 20):
                yield pb.TranscribeRequest(audio=wav[i : i + (1 << 20)])

        started = time.perf_counter()
        reply = await self.stub.Transcribe(messages(), timeout=TIMEOUT)
        return Transcription(time.perf_counter() - started, reply.text)

    async def gateway_stt(self, wav: bytes) -> Transcription:
        """Transcription through the gateway (multipart upload)."""
        started = time.perf_counter()
        response = await self.http.post(
            "/v1/audio/transcriptions",
            files={"file": ("clip.wav", wav, "audio/wav")},
            data={"response_format": "json", "language": "en"},
        )
        response.raise_for_status()
        return Transcription(time.perf_counter() - started, response.json()["text"])


def wav_seconds(wav: bytes) -> float:
    """Seconds of PCM in a WAV file, streamed ones (whose header says "unknown length") included."""
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    offset, bytes_per_second = 12, 0
    while offset + 8 <= len(wav):
        chunk, size = wav[offset : offset + 4], struct.unpack_from("<I", wav, offset + 4)[0]
        if chunk == b"fmt ":
            bytes_per_second = struct.unpack_from("<I", wav, offset + 16)[0]
        elif chunk == b"data":
            if not bytes_per_second:
                break
            return (len(wav) - offset - 8) / bytes_per_second
        offset += 8 + size + (size & 1)
    raise ValueError("WAV file without a fmt and a data chunk")


async def whole_wav(core: SpeechCore, text: str) -> bytes:
    """A complete WAV file of a text (sizes in the header, unlike a streamed one)."""
    audio = bytearray()
    async for piece in core.synthesize(SynthesisJob(text=text, voice="alloy", format="wav", whole_file=True)):
        audio += piece.audio
    return bytes(audio)


@dataclass(frozen=True)
class Setup:
    """What the run measured on."""

    sentence_seconds: float
    paragraph_seconds: float
    clip_seconds: float
    tts_device: str
    stt_device: str


async def measure(
    base_url: str, speech_address: str, repeats: int
) -> tuple[Setup, dict[str, dict[str, float]]]:
    """Medians per measurement and path, the paths interleaved in a rotating order."""
    core = SpeechCore(SpeechSettings())
    async with (
        grpc.aio.insecure_channel(speech_address) as channel,
        httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT) as http,
    ):
        paths = Paths(core, pb_grpc.SpeechServiceStub(channel), http)
        await asyncio.gather(core.tts.get(), core.stt.get())
        clip = await whole_wav(core, CLIP_TEXT)
        clip_seconds = wav_seconds(clip)
        for path in PATHS:  # the service loads its engines in the background: wait for them, warm up
            await paths.tts(path)("Warm up.")
            await paths.stt(path)(clip)
        samples: dict[tuple[str, str], list[float]] = {}

        def add(name: str, path: str, value: float) -> None:
            samples.setdefault((name, path), []).append(value)

        orders = list(itertools.permutations(PATHS))  # each path follows each other equally often
        for repeat in range(repeats):
            order = orders[repeat % len(orders)]
            for text, label in ((ONE_SENTENCE, "1 sentence"), (PARAGRAPH, "5 sentences")):
                for path in order:
                    await asyncio.sleep(SETTLE_SECONDS)
                    done = await paths.tts(path)(text)
                    add(f"TTS {label}: first audio ms", path, done.first_seconds * 1000)
                    # Piper's durations vary a little from one synthesis to the next: use each one's own.
                    add(f"TTS {label}: RTF", path, done.total_seconds / wav_seconds(done.audio))
                    add(f"TTS {label}: audio s", path, wav_seconds(done.audio))
            for path in order:
                await asyncio.sleep(SETTLE_SECONDS)
                heard = await paths.stt(path)(clip)
                if len(heard.text.split()) < 10:  # an empty or truncated decode would flatter the RTF
                    raise RuntimeError(f"{path} transcribed the clip as {heard.text!r}")
                add("STT clip: RTF", path, heard.seconds / clip_seconds)
    medians: dict[str, dict[str, float]] = {}
    for (name, path), values in samples.items():
        medians.setdefault(name, {})[path] = statistics.median(values)
        if path == "grpc":  # how much the direct path itself varies: the scale to read "added" against
            spread = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
            medians[name]["spread"] = (spread[2] - spread[0]) / 2 / statistics.median(values) * 100
    setup = Setup(
        medians["TTS 1 sentence: audio s"]["grpc"],
        medians["TTS 5 sentences: audio s"]["grpc"],
        clip_seconds,
        core.tts_device,
        core.stt_device,
    )
    return setup, medians


def render(setup: Setup, medians: dict[str, dict[str, float]], repeats: int) -> str:
    """The table: the three paths, the gateway's added percentage, the target and pass/fail columns."""
    lines = [
        f"speech benchmark: medians of {repeats} repeat(s); {os.cpu_count()} CPU(s); "
        f"TTS on {setup.tts_device}, STT on {setup.stt_device}",
        f"audio: 1 sentence {setup.sentence_seconds:.1f} s, 5 sentences {setup.paragraph_seconds:.1f} s, "
        f"STT clip {setup.clip_seconds:.1f} s (made by the TTS)",
        "engine = in-process speech core; grpc = speech service directly; gateway = HTTP via the gateway;",
        f"added = gateway over grpc (must be <= {MAX_ADDED_PERCENT:g}%); noise = half the interquartile range of "
        "grpc's samples; targets apply to the gateway path",
        "",
        f"{'measurement':<33} {'engine':>8} {'grpc':>8} {'gateway':>8} {'added':>7} {'noise':>6} {'target':>7}"
        f" {'target?':>7} {'added?':>7}",
        "-" * 100,
    ]
    for name, target in MEASUREMENTS:
        cells = medians[name]
        gateway, direct = cells["gateway"], cells["grpc"]
        added = (gateway - direct) / direct * 100
        digits = 1 if name.endswith("ms") else 3
        values = " ".join(f"{cells[path]:>8.{digits}f}" for path in PATHS)
        verdict = "-" if target is None else ("pass" if gateway <= target else "FAIL")
        added_verdict = "pass" if added <= MAX_ADDED_PERCENT else "FAIL"
        target_text = "-" if target is None else f"<={target:g}"
        lines.append(
            f"{name:<33} {values} {added:>+6.1f}% {cells['spread']:>5.1f}% {target_text:>7} {verdict:>7}"
            f" {added_verdict:>7}"
        )
    return "\n".join(lines)


def main() -> int:
    """Measures a running mesh, or starts one on free ports; prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=6,
        help="measurements per cell, median reported (6 runs every order once)",
    )
    parser.add_argument("--gateway", default="", help="base URL of a running gateway (default: start a mesh)")
    parser.add_argument("--speech", default="", help="host:port of that mesh's speech service")
    args = parser.parse_args()
    if bool(args.gateway) != bool(args.speech):
        parser.error("--gateway and --speech go together")
    if args.gateway:
        setup, medians = asyncio.run(measure(args.gateway, args.speech, args.repeats))
    else:
        from tests.procs import RATE_LIMITS_OFF, run_mesh

        with tempfile.TemporaryDirectory() as tmp, run_mesh(Path(tmp), RATE_LIMITS_OFF) as mesh:
            setup, medians = asyncio.run(measure(mesh.base_url, mesh.address("speech"), args.repeats))
    print(render(setup, medians, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
