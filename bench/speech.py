"""Speech benchmark: time to first audio byte and real-time factors, directly on the speech service
(gRPC ``Synthesize``/``Transcribe``) versus through the gateway (``/v1/audio/speech`` streamed,
``/v1/audio/transcriptions``), interleaved in one run on one mesh.

    python -m bench.speech [--repeats 5]

RTF = processing seconds / seconds of audio. The targets are issue 5's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc
import httpx

from meshserve.v1 import speech_pb2 as pb
from meshserve.v1 import speech_pb2_grpc as pb_grpc

ONE_SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."
PARAGRAPH = (
    "Meshserve runs every model behind one gateway. Speech is synthesised sentence by sentence. "
    "The first sentence is sent before the rest is ready. Transcription accepts any common format. "
    "Whisper tiny runs on the processor when no graphics card is present."
)


async def grpc_tts(stub: pb_grpc.SpeechServiceStub, text: str) -> tuple[float, float, bytes]:
    """(first audio seconds, total seconds, WAV bytes) of one streamed synthesis over gRPC."""
    started = time.perf_counter()
    first = 0.0
    audio = bytearray()
    request = pb.SynthesizeRequest(text=text, voice="alloy", format=pb.AUDIO_FORMAT_WAV, whole_file=False)
    async for piece in stub.Synthesize(request, timeout=120):
        if not first and piece.audio:
            first = time.perf_counter() - started
        audio += piece.audio
    return first, time.perf_counter() - started, bytes(audio)


async def http_tts(client: httpx.AsyncClient, text: str) -> tuple[float, float, bytes]:
    """The same through the gateway, reading the chunked response as it arrives."""
    started = time.perf_counter()
    first = 0.0
    audio = bytearray()
    body = {"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"}
    async with client.stream("POST", "/v1/audio/speech", json=body) as response:
        response.raise_for_status()
        async for chunk in response.aiter_bytes():
            if not first and chunk:
                first = time.perf_counter() - started
            audio += chunk
    return first, time.perf_counter() - started, bytes(audio)


async def grpc_stt(stub: pb_grpc.SpeechServiceStub, wav: bytes) -> tuple[float, float]:
    """(seconds taken, audio seconds) of one transcription over gRPC."""

    async def messages():
        yield pb.TranscribeRequest(config=pb.TranscribeConfig(filename="clip.wav", language="en"))
        for i in range(0, len(wav), 1 << 20):
            yield pb.TranscribeRequest(audio=wav[i : i + (1 << 20)])

    started = time.perf_counter()
    reply = await stub.Transcribe(messages(), timeout=120)
    return time.perf_counter() - started, reply.duration_seconds


async def http_stt(client: httpx.AsyncClient, wav: bytes) -> tuple[float, float]:
    """The same through the gateway."""
    started = time.perf_counter()
    response = await client.post(
        "/v1/audio/transcriptions",
        files={"file": ("clip.wav", wav, "audio/wav")},
        data={"response_format": "verbose_json", "language": "en"},
    )
    response.raise_for_status()
    return time.perf_counter() - started, float(response.json()["duration"])


async def audio_seconds(stub: pb_grpc.SpeechServiceStub, text: str) -> float:
    """Duration of the audio a text makes (from a whole-file synthesis)."""
    total = 0.0
    request = pb.SynthesizeRequest(text=text, voice="alloy", format=pb.AUDIO_FORMAT_WAV, whole_file=True)
    async for piece in stub.Synthesize(request, timeout=120):
        total = piece.total_duration_seconds or total + piece.duration_seconds
    return total


async def measure(base_url: str, speech_address: str, repeats: int) -> list[tuple[str, str, float, float]]:
    """Rows of (measurement, "", direct median, gateway median), paths interleaved per repeat."""
    async with (
        grpc.aio.insecure_channel(speech_address) as channel,
        httpx.AsyncClient(base_url=base_url, timeout=120) as client,
    ):
        stub = pb_grpc.SpeechServiceStub(channel)
        await grpc_tts(stub, "Warm up.")  # engines load in the background at start
        await http_tts(client, "Warm up.")
        durations = {text: await audio_seconds(stub, text) for text in (ONE_SENTENCE, PARAGRAPH)}
        clip_wav = await _whole_wav(stub, " ".join([PARAGRAPH] * 2))  # about 25 s of speech
        samples: dict[tuple[str, str], list[float]] = {}
        for _ in range(repeats):
            for text, label in ((ONE_SENTENCE, "one sentence"), (PARAGRAPH, "five sentences")):
                for path, fn in (("direct", grpc_tts), ("gateway", http_tts)):
                    first, total, _ = await fn(stub if path == "direct" else client, text)  # type: ignore[arg-type]
                    samples.setdefault((f"TTS {label}: first audio ms", path), []).append(first * 1000)
                    samples.setdefault((f"TTS {label}: RTF", path), []).append(total / durations[text])
            for path, fn in (("direct", grpc_stt), ("gateway", http_stt)):
                taken, seconds = await fn(stub if path == "direct" else client, clip_wav)  # type: ignore[arg-type]
                samples.setdefault(("STT clip: RTF", path), []).append(taken / seconds)
        names = [n for n, p in samples if p == "direct"]
        return [
            (n, "", statistics.median(samples[(n, "direct")]), statistics.median(samples[(n, "gateway")]))
            for n in dict.fromkeys(names)
        ]


async def _whole_wav(stub: pb_grpc.SpeechServiceStub, text: str) -> bytes:
    audio = bytearray()
    request = pb.SynthesizeRequest(text=text, voice="alloy", format=pb.AUDIO_FORMAT_WAV, whole_file=True)
    async for piece in stub.Synthesize(request, timeout=120):
        audio += piece.audio
    return bytes(audio)


TARGETS = {
    "TTS one sentence: first audio ms": 300.0,
    "TTS one sentence: RTF": 0.1,
    "STT clip: RTF": 0.3,
}


def render(rows: list[tuple[str, str, float, float]]) -> str:
    """The table: direct, gateway, gateway's added percentage, target and verdicts."""
    lines = [
        f"{'measurement':<36} {'direct':>9} {'gateway':>9} {'added':>8} {'target':>8}  verdict",
        "-" * 84,
    ]
    for name, _, direct, gateway in rows:
        added = (gateway - direct) / direct * 100 if direct else 0.0
        target = TARGETS.get(name)
        verdicts = []
        if target is not None:
            verdicts.append("target ok" if gateway <= target else "target MISSED")
        verdicts.append("overhead ok" if added <= 10 else "overhead > 10%")
        target_text = f"{target:g}" if target is not None else "-"
        lines.append(
            f"{name:<36} {direct:>9.3f} {gateway:>9.3f} {added:>7.1f}% {target_text:>8}  {', '.join(verdicts)}"
        )
    return "\n".join(lines)


def main() -> int:
    """Starts a mesh on free ports, measures, prints the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="measurements per cell (median reported)")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.procs import run_mesh

    with tempfile.TemporaryDirectory() as tmp, run_mesh(Path(tmp)) as mesh:
        rows = asyncio.run(measure(mesh.base_url, mesh.address("speech"), args.repeats))
    print(render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
