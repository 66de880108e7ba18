"""Document 000 (ACE3 SDK): every example, run against the shared mesh with only its import line
changed (``import meshserve.compat.ace3 as ace3``). Names an example uses without defining them
(``client``, ``model``, ``input_data``…) come from the examples before it, as in the document.
The training examples train for real (two gloo ranks on this machine's CPUs); examples that need
TensorFlow or hub/internet weights assert their documented error."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import meshserve
import meshserve.compat.ace3 as ace3
from tests.procs import Mesh
from tests.sdk_examples.conftest import write_image_model
from tests.sdk_examples.harness import run, run_ok

pytestmark = pytest.mark.integration


@pytest.fixture
def ns(at_mesh: Mesh) -> dict[str, Any]:
    """A namespace after 000's first example (``ace3`` imported, ``client`` made)."""
    namespace: dict[str, Any] = {}
    run_ok("d000_01", namespace)
    return namespace


@pytest.fixture
def with_model(ns: dict[str, Any]) -> dict[str, Any]:
    """After "Loading Models": ``model`` is model.onnx, ``input_data``/``batch_data`` as in 000."""
    ns["model"] = ns["client"].load_model("model.onnx")
    ns["input_data"] = np.random.randn(1, 224, 224, 3)
    ns["batch_data"] = np.random.randn(8, 224, 224, 3)
    return ns


def test_client_initialization_goes_to_the_gateway(ns: dict[str, Any], at_mesh: Mesh) -> None:
    client = ns["client"]
    assert isinstance(client, meshserve.Client)
    assert client.base_url == at_mesh.base_url  # https://api.ace3.ai redirected by MESHSERVE_BASE_URL
    assert client.transport.timeout == 30 and client.transport.max_retries == 3
    assert client.transport.api_key == "your-api-key"
    assert client.health()["status"] == "healthy"


def test_three_ways_to_pass_the_api_key(ns: dict[str, Any]) -> None:
    run_ok("d000_02", ns)
    # Method 3 last: the config file's key, endpoint (redirected) and timeout
    assert ns["client"].transport.api_key == "key-from-config"
    assert ns["client"].transport.timeout == 12


def test_api_key_methods_one_and_two(ns: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    (method1, method2, _method3) = run("d000_02", ns)
    assert method1.error is None and method2.error is None
    monkeypatch.setenv("ACE3_API_KEY", "from-env")
    assert ace3.Client().transport.api_key == "from-env"


def test_token_info_and_refresh_with_a_real_login(ns: dict[str, Any], user: tuple[str, str]) -> None:
    ns["client"].login(*user)
    before = ns["client"].transport.api_key
    out = run_ok("d000_03", ns)
    assert f"'username': '{user[0]}'" in out or user[0] in out  # token_info printed who we are
    assert ns["client"].transport.api_key != before  # refresh_token() switched to the new access token
    assert ns["client"].token_info()  # and the new token works


def test_token_info_with_the_placeholder_key_is_an_authentication_error(ns: dict[str, Any]) -> None:
    # "your-api-key" is no credential: the documented AuthenticationError (401).
    first = run("d000_03", ns)[0]
    assert isinstance(first.error, ace3.AuthenticationError) and first.error.status_code == 401


def test_loading_local_files(ns: dict[str, Any]) -> None:
    onnx_part, torch_part, tf_part = run("d000_04", ns)
    assert onnx_part.error is None
    # TorchScript archives do not record input shapes: the registry's documented refusal names the fix…
    assert isinstance(torch_part.error, ace3.ModelLoadError)
    assert torch_part.error.code == "MODEL_VALIDATION_FAILED" and "input_shape" in torch_part.error.message
    # …which load_model takes.
    torchscript = ns["client"].load_model("model.pt", format="pytorch", input_shape="-1,4")
    assert torchscript.format == "torchscript"
    assert torchscript.predict([[1.0, 2.0, 3.0, 4.0]]).outputs == [[3.0, 5.0, 7.0, 9.0]]
    # meshserve runs no TensorFlow: a clear error, not an AttributeError.
    assert isinstance(tf_part.error, meshserve.UnsupportedError)


def test_hugging_face_and_url_loads_fail_offline_with_model_load_error(ns: dict[str, Any]) -> None:
    # No hub and no internet here: 000's ModelLoadError with the registry's reason.
    for section in (*run("d000_05", ns), *run("d000_06", ns)):
        assert isinstance(section.error, ace3.ModelLoadError), section.source
        assert section.error.code == "MODEL_DOWNLOAD_FAILED"


def test_model_information(with_model: dict[str, Any]) -> None:
    out = run_ok("d000_07", with_model)
    assert "Model name: model\n" in out
    assert "Input shape: [-1, 224, 224, 3]\n" in out and "Output shape: [-1, 3]\n" in out
    assert "Optimized: False\n" in out
    size = float(out.split("Model size: ")[1].split(" MB")[0])
    assert size == with_model["model"]["size_bytes"] / 1e6 > 0


def test_optimization(with_model: dict[str, Any]) -> None:
    run_ok("d000_08", with_model)
    optimized = with_model["optimized_model"]
    assert optimized.is_optimized() and optimized.name == "model"
    assert any("FP16" in step for step in optimized["applied"])  # the advanced options were applied


def test_synchronous_inference(with_model: dict[str, Any]) -> None:
    run_ok("d000_09", with_model)
    data, result = with_model["input_data"], with_model["result"]
    assert np.allclose(result.outputs, data.mean(axis=(1, 2)), atol=1e-4)
    results = with_model["results"]
    assert len(results.outputs) == 8 and results.batches == 2 and results.batch_size == 4
    assert np.allclose(results.outputs, with_model["batch_data"].mean(axis=(1, 2)), atol=1e-4)


def test_asynchronous_inference(with_model: dict[str, Any]) -> None:
    run_ok("d000_10", with_model)
    results = with_model["results"]
    assert np.allclose(results.outputs, with_model["batch_data"].mean(axis=(1, 2)), atol=1e-4)


def test_streaming_inference(with_model: dict[str, Any]) -> None:
    chunks = [np.full((1, 224, 224, 3), float(i)) for i in range(3)]
    seen: list[Any] = []
    with_model.update(data_stream=chunks, process_result=seen.append)
    run_ok("d000_11", with_model)
    assert [round(r.outputs[0][0], 3) for r in seen] == [0.0, 1.0, 2.0]


def test_distributed_training_runs_as_document_000_writes_it(
    ns: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")
    from meshserve.training import TrainingError
    from tests.procs import free_port

    monkeypatch.chdir(tmp_path)  # the callbacks write ./logs and ./checkpoints
    generator = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2, (64,), generator=generator)
    points = torch.randn(64, 4, generator=generator) + labels[:, None].float() * 2
    data = torch.utils.data.TensorDataset(points, labels)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    ns.update(model=model, train_dataset=data, val_dataset=data, dataset=data)

    run_ok("d000_12", ns)  # 4 GPUs on each of 2 nodes over nccl, as written
    assert isinstance(ns["trainer"], ace3.DistributedTrainer) and ns["config"].world_size == 8
    if not torch.cuda.is_available():
        section = run("d000_13", ns, split=False)[0]
        assert isinstance(section.error, TrainingError) and "num_gpus=4" in section.error.message

    # The same examples on this machine: two CPU ranks over gloo.
    ns["trainer"] = ace3.DistributedTrainer(ace3.DistributedConfig(num_processes=2, master_port=free_port()))
    before = [p.detach().clone() for p in model.parameters()]
    run_ok("d000_13", ns)  # 10 epochs; the trained weights land in the caller's model
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    run_ok("d000_14", ns)  # EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TensorBoard
    assert list((tmp_path / "logs").glob("events.out.tfevents.*"))
    assert list((tmp_path / "checkpoints").glob("model-epoch*.pt"))


def test_profiler(with_model: dict[str, Any], workdir: Path) -> None:
    (report := workdir / "profile_report.html").unlink(missing_ok=True)
    out = run_ok("d000_15", with_model)
    assert "wall time:" in out and "function calls" in out
    assert report.read_text().startswith("<!doctype html>")


def test_memory_monitor(with_model: dict[str, Any]) -> None:
    out = run_ok("d000_16", with_model)
    peak = float(out.split("Peak memory: ")[1].split(" MB")[0])
    current = float(out.split("Current memory: ")[1].split(" MB")[0])
    assert peak >= current >= 0 and peak > 0  # the JSON body of a 1x224x224x3 request was allocated


def test_real_time_metrics(with_model: dict[str, Any]) -> None:
    out = run_ok("d000_17", with_model)
    assert "Requests per second: 0.0" in out  # nothing sent since enable_metrics
    with_model["model"].predict(with_model["input_data"])
    metrics = with_model["client"].get_metrics()
    assert metrics.total_requests == 1 and metrics.avg_latency_ms > 0 and metrics.error_rate == 0


def test_error_handling_names_the_missing_file(ns: dict[str, Any]) -> None:
    out = run_ok("d000_18", ns)
    assert out.startswith("Failed to load model: invalid_model.onnx: no such model file")


def test_retry_decorator(with_model: dict[str, Any]) -> None:
    run_ok("d000_19", with_model)
    assert len(with_model["result"].outputs) == 1
    calls: list[int] = []

    @with_model["retry"](max_attempts=3, delay=0.01, backoff=2.0)
    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise meshserve.NetworkError("down")
        return "ok"

    assert flaky() == "ok" and len(calls) == 3


def test_preprocessing(ns: dict[str, Any]) -> None:
    ns["raw_image"] = np.random.randint(0, 256, (300, 400, 3), dtype=np.uint8)
    ns["raw_text"] = "Hello"
    image, text = run("d000_20", ns)
    assert image.error is None and ns["processed_image"].shape == (224, 224, 3)
    # bert-base-uncased would come from the hub, which is unreachable here: ModelLoadError.
    assert isinstance(text.error, meshserve.ModelLoadError) and "bert-base-uncased" in text.error.message


def test_model_conversion(ns: dict[str, Any], workdir: Path) -> None:
    import onnx
    import torch

    ns["pytorch_model"] = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )
    ns["tf_model"] = object()  # no TensorFlow here; the converter refuses before looking at it
    to_onnx, from_tf = run("d000_21", ns)[1:]
    assert to_onnx.error is None
    onnx.checker.check_model(onnx.load(workdir / "model.onnx"))
    uploaded = meshserve.Client().load_model(ns["onnx_model"], name="converted")
    assert len(uploaded.predict(np.zeros((2, 3, 224, 224))).outputs) == 2
    assert isinstance(from_tf.error, meshserve.UnsupportedError)  # TensorFlow is not available
    write_image_model(workdir / "model.onnx")  # the other examples expect the image model there


def test_benchmark(ns: dict[str, Any]) -> None:
    ns["model"] = ns["client"].get_model("example")  # the built-in 2x+1 model keeps 110 runs quick
    ns["test_data"] = [[1.0, 2.0, 3.0]]
    out = run_ok("d000_22", ns)
    results = ns["results"]
    assert results.num_runs == 100
    # Percentiles are ordered and the mean lies within the range; a mean may exceed p95 when
    # one run is a large outlier, so it is bounded by min and max only.
    ordered = [
        results.min_latency_ms,
        results.p50_latency_ms,
        results.p95_latency_ms,
        results.p99_latency_ms,
        results.max_latency_ms,
    ]
    assert 0 < ordered[0] and ordered == sorted(ordered), ordered
    assert results.min_latency_ms <= results.avg_latency_ms <= results.max_latency_ms
    assert results.throughput_rps > 0
    assert f"Throughput: {results.throughput_rps} RPS" in out


def test_global_configuration(ns: dict[str, Any]) -> None:
    try:
        out = run_ok("d000_23", ns)
        assert "'cache_enabled': True" in out and "'cache_ttl': 3600" in out
        assert ace3.get_config()["log_level"] == "INFO"
    finally:
        meshserve.config.reset_config()
        logging.getLogger("meshserve").setLevel(logging.NOTSET)


def test_logging(ns: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    try:
        run_ok("d000_24", ns)
        caplog.set_level(logging.DEBUG, logger="my_app")
        meshserve.Client().health()
        assert any("GET /health -> 200" in r.getMessage() for r in caplog.records if r.name == "my_app")
    finally:
        meshserve.set_logger(logging.getLogger("meshserve"))
        meshserve.set_log_level("WARNING")
