"""A speech process of its own: configured limits named in errors, answers while busy, drains on SIGTERM."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from meshserve.v1 import speech_pb2 as pb
from meshserve.v1 import speech_pb2_grpc as pb_grpc
from tests.procs import ServiceProc, start_service
from tests.speech.audio_files import long_wav
from tests.speech.test_streaming import LONG_TEXT

pytestmark = pytest.mark.slow

LIMITS = {
    "MESHSERVE_SPEECH_MAX_TEXT_CHARS": "2000",
    "MESHSERVE_SPEECH_MAX_AUDIO_SECONDS": "5",
    "MESHSERVE_SPEECH_MAX_UPLOAD_BYTES": "100000",
    "MESHSERVE_SPEECH_GRACE_SECONDS": "30",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProc]:
    proc = start_service("speech", tmp_path_factory.mktemp("speech"), env=LIMITS)
    yield proc
    if proc.process.poll() is None:
        proc.process.kill()
        proc.process.wait()


@pytest.fixture(scope="module")
def stub(service: ServiceProc) -> Iterator[Any]:
    channel = grpc.insecure_channel(service.address)
    yield pb_grpc.SpeechServiceStub(channel)
    channel.close()


def refusal(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def upload(stub: Any, data: bytes, chunk: int = 32768) -> Any:
    messages = [pb.TranscribeRequest(config=pb.TranscribeConfig())]
    messages += [pb.TranscribeRequest(audio=data[i : i + chunk]) for i in range(0, len(data), chunk)]
    return stub.Transcribe(iter(messages), timeout=30)


def test_configured_limits_are_named_in_errors(stub: Any) -> None:
    error = refusal(lambda: list(stub.Synthesize(pb.SynthesizeRequest(text="a" * 2001), timeout=30)))
    assert (
        error.code() == grpc.StatusCode.INVALID_ARGUMENT and "the limit is 2000 characters" in error.details()
    )
    error = refusal(lambda: upload(stub, long_wav(8)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "longer than the limit of 5 seconds" in error.details()
    error = refusal(lambda: upload(stub, bytes(300_000)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "larger than the limit of 100000 bytes" in error.details()
    limits = stub.GetSpeechStatus(pb.GetSpeechStatusRequest(), timeout=5).limits
    assert limits["max_upload_bytes"] == "100000" and limits["max_audio_seconds"] == "5"


def test_answers_while_busy_and_drains_on_sigterm(service: ServiceProc, stub: Any) -> None:
    pieces: list[Any] = []
    first = threading.Event()
    failure: list[BaseException] = []

    def listen() -> None:
        try:
            for reply in stub.Synthesize(pb.SynthesizeRequest(text=f"{LONG_TEXT} {LONG_TEXT}"), timeout=120):
                pieces.append(reply)
                first.set()
        except BaseException as exc:  # reported to the test below
            failure.append(exc)
            first.set()

    listener = threading.Thread(target=listen)
    listener.start()
    assert first.wait(60) and not failure
    # Synthesis runs in worker threads: the event loop still answers at once.
    started = time.perf_counter()
    stub.GetSpeechStatus(pb.GetSpeechStatusRequest(), timeout=5)
    assert time.perf_counter() - started < 0.5
    assert not pieces[-1].final, "the stream must still be running when SIGTERM comes"
    code = service.terminate(timeout=60)
    listener.join(60)
    assert not failure, failure
    assert code == 0 and pieces[-1].final and len(pieces) == 21, "the in-flight stream finished first"
