"""Which engine serves which model (no model is loaded), and the vLLM configuration mapping, which runs
without a GPU everywhere (the engine itself is exercised on CUDA machines)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from services.common.errors import InvalidInput, ModelLoadFailed
from services.inference.llm.engines import choose, llamacpp, vllm_engine
from services.inference.llm.engines.vllm_engine import (
    engine_args,
    json_schema_of,
    logprob_entries,
    prompt_entries,
    sampling_kwargs,
)
from services.inference.llm.model_dir import LLMSpec, config_pbtxt
from services.inference.llm.sampling import SamplingParams


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + bytes(60))
    return path


@pytest.fixture
def hf_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "hf"
    directory.mkdir()
    (directory / "config.json").write_text("{}")
    return directory


def test_gguf_goes_to_llama_cpp(gguf: Path) -> None:
    assert llamacpp.available()
    assert choose(gguf, "auto").engine == "llama.cpp"
    assert choose(gguf, "cpu", "llama.cpp").engine == "llama.cpp"


def test_gguf_falls_back_to_transformers_when_llama_cpp_is_missing(
    gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llamacpp, "available", lambda: False)
    choice = choose(gguf, "auto")
    assert choice.engine == "transformers" and "llama-cpp-python is not installed" in choice.reason
    with pytest.raises(ModelLoadFailed, match="not installed"):
        choose(gguf, "auto", "llama.cpp")


def test_hf_directory_uses_transformers_without_cuda(hf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vllm_engine, "usable", lambda device: False)
    choice = choose(hf_dir, "auto")
    assert choice.engine == "transformers" and choice.reason.startswith("fallback")
    assert choose(hf_dir, "cpu", "transformers").reason == "asked for in the settings"


def test_hf_directory_uses_vllm_on_cuda(hf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vllm_engine, "usable", lambda device: device != "cpu")
    assert choose(hf_dir, "auto").engine == "vllm"
    assert choose(hf_dir, "cpu").engine == "transformers"


def test_impossible_choices_are_clear_errors(
    gguf: Path, hf_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vllm_engine, "usable", lambda device: False)
    with pytest.raises(ModelLoadFailed, match="needs CUDA"):
        choose(hf_dir, "auto", "vllm")
    with pytest.raises(ModelLoadFailed, match="GGUF"):
        choose(hf_dir, "auto", "llama.cpp")
    with pytest.raises(InvalidInput) as caught:
        choose(gguf, "auto", "onnx")
    assert caught.value.details["allowed"] == ["auto", "llama.cpp", "vllm", "transformers"]


def test_vllm_engine_arguments(hf_dir: Path) -> None:
    args = engine_args(hf_dir, max_batch=16, context_tokens=2048)
    assert args["model"] == args["tokenizer"] == str(hf_dir)
    assert args["max_num_seqs"] == 16 and args["max_model_len"] == 2048
    assert args["enable_prefix_caching"] is True
    assert 0 < args["gpu_memory_utilization"] < 1
    assert "max_model_len" not in engine_args(hf_dir, 4, 0)  # 0: the model's own context


def test_vllm_sampling_mapping() -> None:
    params = SamplingParams(
        max_tokens=32,
        temperature=0.7,
        top_p=0.9,
        top_k=0,
        stop=("\n\n",),
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        seed=3,
    )
    kwargs = sampling_kwargs(params)
    assert kwargs == {
        "n": 1,
        "max_tokens": 32,
        "temperature": 0.7,
        "top_p": 0.9,
        "top_k": -1,  # vLLM's "off"
        "stop": ["\n\n"],
        "frequency_penalty": 0.5,
        "presence_penalty": -0.5,
        "seed": 3,
        "logprobs": 0,
        "prompt_logprobs": None,
        "logit_bias": None,
    }
    assert sampling_kwargs(SamplingParams(logit_bias=((7, -100.0),)))["logit_bias"] == {7: -100.0}
    assert sampling_kwargs(SamplingParams(top_k=40))["top_k"] == 40
    assert sampling_kwargs(SamplingParams(logprobs=True, top_logprobs=5))["logprobs"] == 5
    echoed = sampling_kwargs(SamplingParams(logprobs=True, top_logprobs=2, prompt_logprobs=True))
    assert echoed["prompt_logprobs"] == 2


def test_vllm_structured_outputs_and_logprobs_mapping() -> None:
    assert json_schema_of(SamplingParams()) is None
    assert json_schema_of(SamplingParams(response_format={"type": "json_object"})) == {"type": "object"}
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    assert json_schema_of(SamplingParams(response_format={"type": "json_schema", "schema": schema})) == schema
    # vLLM's Logprob objects carry logprob and rank (the sampled token may be outside the top k).
    step = {
        5: SimpleNamespace(logprob=-2.0, rank=3),
        1: SimpleNamespace(logprob=-0.1, rank=1),
        2: SimpleNamespace(logprob=-1.0, rank=2),
    }
    entries = logprob_entries([5], [step], 2, lambda t: f"t{t}".encode())
    assert entries == [
        {
            "token": "t5",
            "bytes": list(b"t5"),
            "logprob": -2.0,
            "top": [
                {"token": "t1", "bytes": list(b"t1"), "logprob": -0.1},
                {"token": "t2", "bytes": list(b"t2"), "logprob": -1.0},
            ],
        }
    ]


def test_the_worker_config_carries_the_engine_settings(gguf: Path) -> None:
    spec = LLMSpec(
        "m", gguf, engine="llama.cpp", threads=3, context_tokens=1024, adaptive_threads=False, cpu_turns=False
    )
    config = config_pbtxt(spec)
    settings = (
        ("engine", "llama.cpp"),
        ("threads", "3"),
        ("context_tokens", "1024"),
        ("adaptive_threads", "0"),
        ("cpu_turns", "0"),
    )
    for key, value in settings:
        assert f'parameters: {{ key: "{key}" value: {{ string_value: "{value}" }} }}' in config


def test_vllm_prompt_logprobs_mapping() -> None:
    """vLLM lists the first prompt token as None: it becomes the entry with no log-probability."""
    step = {8: SimpleNamespace(logprob=-3.0, rank=4), 1: SimpleNamespace(logprob=-0.2, rank=1)}
    entries = prompt_entries([4, 8], [None, step], 1, lambda t: f"t{t}".encode())
    assert entries == [
        {"token": "t4", "bytes": list(b"t4"), "logprob": None, "top": []},
        {
            "token": "t8",
            "bytes": list(b"t8"),
            "logprob": -3.0,
            "top": [{"token": "t1", "bytes": list(b"t1"), "logprob": -0.2}],
        },
    ]
