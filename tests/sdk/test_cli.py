"""The ``meshserve`` console script, run as a real process against the session mesh: models
upload/list/load/predict/unload, chat streamed to the terminal, speak into a WAV and transcribe it
back, and bad input answered with one clear line on stderr and a non-zero exit code."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from meshserve.cli.progress import ProgressBar
from meshserve.cli.speech import finish_wav
from tests.procs import Mesh, free_port

MESHSERVE = Path(sys.executable).with_name("meshserve")  # the venv's console script
MODEL = "cli-scale"
WEIGHTS = [10.0, 20.0, 30.0]
BIAS = 0.5
SENTENCE = "Testing the command line tool."


def meshserve(
    mesh: Mesh | None, *args: str, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs the console script with the mesh's gateway as MESHSERVE_BASE_URL."""
    env = {**os.environ, "MESHSERVE_BASE_URL": mesh.base_url if mesh else "http://127.0.0.1:9"}
    return subprocess.run(
        [str(MESHSERVE), *args], input=stdin, capture_output=True, text=True, env=env, timeout=timeout
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command (no traceback, nothing on stdout)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meshserve: error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.fixture(scope="module")
def onnx_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """y = x * WEIGHTS + BIAS over a dynamic batch of 3-vectors, built with onnx.helper."""
    from onnx import TensorProto, checker, helper, save

    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        [
            helper.make_tensor("w", TensorProto.FLOAT, [3], WEIGHTS),
            helper.make_tensor("b", TensorProto.FLOAT, [1], [BIAS]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    checker.check_model(model)
    path = tmp_path_factory.mktemp("cli") / "scale.onnx"
    save(model, str(path))
    return path


def listed(mesh: Mesh) -> dict[str, dict[str, object]]:
    """``meshserve --json models list`` (global option before the command) by name."""
    result = meshserve(mesh, "--json", "models", "list")
    assert result.returncode == 0, result.stderr
    return {m["name"]: m for m in json.loads(result.stdout)}


@pytest.mark.integration
def test_model_upload_list_load_predict_unload(mesh: Mesh, onnx_file: Path) -> None:
    uploaded = meshserve(mesh, "models", "upload", str(onnx_file), "--name", MODEL, "--progress")
    assert uploaded.returncode == 0, uploaded.stderr
    assert uploaded.stdout.startswith(f"uploaded {MODEL} version 1 (onnx")
    assert "100%" in uploaded.stderr and "uploading scale.onnx" in uploaded.stderr  # the progress bar

    table = meshserve(mesh, "models", "list")
    assert table.returncode == 0, table.stderr
    row = next(line.split() for line in table.stdout.splitlines() if line.split()[0] == MODEL)
    assert row[1:3] == ["1", "onnx"]
    assert listed(mesh)[MODEL]["loaded"] is False

    loaded = meshserve(mesh, "models", "load", MODEL, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.startswith(f"loaded {MODEL} on 1 worker")
    assert listed(mesh)[MODEL]["loaded"] is True

    inputs = [[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]]
    predicted = meshserve(mesh, "predict", MODEL, json.dumps(inputs))
    assert predicted.returncode == 0, predicted.stderr
    expected = [[x * w + BIAS for x, w in zip(sample, WEIGHTS, strict=True)] for sample in inputs]
    assert json.loads(predicted.stdout) == expected  # [[10.5, 40.5, 90.5], [5.5, 0.5, -29.5]]: exact in FP32
    full = meshserve(mesh, "predict", MODEL, "-", "--json", stdin=json.dumps(inputs[:1]))
    assert full.returncode == 0, full.stderr
    body = json.loads(full.stdout)
    assert body["outputs"] == expected[:1] and body["request_id"] and body["latency_ms"] >= 0

    unloaded = meshserve(mesh, "models", "unload", MODEL)
    assert unloaded.returncode == 0, unloaded.stderr
    assert unloaded.stdout.startswith(f"unloaded {MODEL} (freed ")
    assert listed(mesh)[MODEL]["loaded"] is False


@pytest.mark.integration
def test_bad_input_exits_non_zero_with_one_clear_line(mesh: Mesh, tmp_path: Path) -> None:
    unknown = meshserve(mesh, "predict", "no-such-model", "[[1, 2, 3]]")
    assert unknown.returncode == 1
    assert re.search(r"404 MODEL_NOT_FOUND: .*no-such-model", one_error_line(unknown))

    not_loaded = meshserve(mesh, "models", "load", "no-such-model")
    assert not_loaded.returncode == 1 and "MODEL_NOT_FOUND" in one_error_line(not_loaded)

    missing = meshserve(mesh, "models", "upload", str(tmp_path / "missing.onnx"))
    assert missing.returncode == 2 and "missing.onnx: no such file" in one_error_line(missing)
    missing_audio = meshserve(mesh, "transcribe", str(tmp_path / "missing.wav"))
    assert missing_audio.returncode == 2 and "missing.wav: no such file" in one_error_line(missing_audio)

    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not a model")
    refused = meshserve(mesh, "models", "upload", str(garbage), "--name", "cli-garbage")
    assert refused.returncode == 1 and "400" in one_error_line(refused)
    assert "cli-garbage" not in listed(mesh)

    no_llm = meshserve(mesh, "chat", "--model", "no-such-llm", "Hello?")
    assert no_llm.returncode == 1 and "MODEL_NOT_FOUND" in one_error_line(no_llm)

    bad_json = meshserve(mesh, "predict", "example", "[[1, 2")
    assert bad_json.returncode == 2 and "inputs: not valid JSON" in one_error_line(bad_json)

    unreachable = meshserve(None, "models", "list", "--base-url", f"http://127.0.0.1:{free_port()}")
    assert unreachable.returncode == 1 and "cannot reach the gateway" in one_error_line(unreachable)

    usage = meshserve(mesh, "models", "frobnicate")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


@pytest.fixture(scope="module")
def spoken(
    mesh: Mesh, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """SENTENCE spoken by ``meshserve speak`` into a WAV file."""
    path = tmp_path_factory.mktemp("speak") / "sentence.wav"
    return path, meshserve(mesh, "speak", SENTENCE, "-o", str(path), "--progress", timeout=180)


@pytest.mark.integration
def test_speak_writes_a_wav_file(spoken: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    path, result = spoken
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote {path} (")
    assert "receiving audio" in result.stderr  # the download's progress (size unknown: chunked)
    with wave.open(str(path)) as audio:
        assert audio.getnchannels() == 1 and audio.getsampwidth() == 2
        seconds = audio.getnframes() / audio.getframerate()
    assert 1.0 < seconds < 10.0
    assert not path.with_name(path.name + ".part").exists()


@pytest.mark.integration
def test_speak_refusal_leaves_no_file(mesh: Mesh, tmp_path: Path) -> None:
    target = tmp_path / "never.wav"
    refused = meshserve(mesh, "speak", "Hello.", "--voice", "no-such-voice", "-o", str(target))
    assert refused.returncode == 1 and "no-such-voice" in one_error_line(refused)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.integration
def test_transcribe_the_spoken_file(
    spoken: tuple[Path, subprocess.CompletedProcess[str]], mesh: Mesh
) -> None:
    path, _ = spoken
    result = meshserve(mesh, "transcribe", str(path), "--language", "en", "--progress", timeout=180)
    assert result.returncode == 0, result.stderr
    words = re.sub(r"[^a-z ]", " ", result.stdout.lower()).split()
    assert {"testing", "command", "line", "tool"} <= set(words), result.stdout
    assert "100%" in result.stderr  # the upload's progress
    subtitles = meshserve(mesh, "transcribe", str(path), "--format", "srt")
    assert subtitles.returncode == 0 and "00:00:00,000 --> " in subtitles.stdout
    # --translate runs Whisper's translate task (English speech stays English text).
    translated = meshserve(mesh, "transcribe", str(path), "--translate", "--json", timeout=180)
    assert translated.returncode == 0, translated.stderr
    assert {"testing", "command", "line", "tool"} <= set(
        re.sub(r"[^a-z ]", " ", translated.stdout.lower()).split()
    )
    both = meshserve(mesh, "transcribe", str(path), "--translate", "--language", "en")
    assert both.returncode == 2 and "--translate" in one_error_line(both)


@pytest.mark.slow
@pytest.mark.integration
def test_chat_streams_the_answer_to_the_terminal(mesh: Mesh) -> None:
    env = {**os.environ, "MESHSERVE_BASE_URL": mesh.base_url}
    args = ["chat", "Which city is the capital of France?", "--temperature", "0", "--max-tokens", "40"]
    process = subprocess.Popen(
        [str(MESHSERVE), *args, "--timeout", "600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.read1(1)  # type: ignore[attr-defined]
    still_generating = process.poll() is None  # the first token arrived before the answer was complete
    rest = process.stdout.read()
    assert process.wait(60) == 0, process.stderr.read()
    answer = (first + rest).decode()
    assert first and still_generating
    assert "Paris" in answer and answer.endswith("\n")


def test_progress_bar_known_and_unknown_sizes() -> None:
    known = io.StringIO()
    bar = ProgressBar("uploading m.onnx", stream=known, interval=0)
    for done in (0, 512, 1024, 1024):
        bar(done, 1024)
    bar.finish()
    lines = known.getvalue().split("\r")
    assert lines[-1].startswith("uploading m.onnx [########################] 100% 1.0KiB/1.0KiB ")
    assert lines[-1].endswith("/s\n") and "50%" in known.getvalue()
    assert known.getvalue().count("100%") == 1  # a repeated final report is not redrawn
    unknown = io.StringIO()
    bar = ProgressBar("receiving audio", stream=unknown, interval=0)
    bar(3 * 1024 * 1024, 0)
    bar.finish()
    assert unknown.getvalue().startswith("\rreceiving audio 3.0MiB ") and "%" not in unknown.getvalue()
    silent = io.StringIO()
    bar = ProgressBar("x", stream=silent, enabled=False)
    bar(1, 2)
    bar.finish()
    assert silent.getvalue() == ""


def test_finish_wav_writes_real_sizes_and_leaves_exact_files_alone(tmp_path: Path) -> None:
    exact = tmp_path / "exact.wav"
    with wave.open(str(exact), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(16000)
        audio.writeframes(b"\x01\x00" * 1600)
    original = exact.read_bytes()
    finish_wav(exact)
    assert exact.read_bytes() == original
    streamed = tmp_path / "streamed.wav"  # placeholder sizes, as a stream written before its end
    streamed.write_bytes(original[:4] + b"\xff" * 4 + original[8:40] + b"\xff" * 4 + original[44:])
    finish_wav(streamed)
    assert streamed.read_bytes() == original
    with wave.open(str(streamed)) as audio:
        assert audio.getnframes() == 1600
