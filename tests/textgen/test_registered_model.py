"""Language models registered through the registry: a GGUF upload, or an archive of a Hugging Face
directory, is served by name like the bundled model; a file that is not a sound model is refused
with its reason and leaves nothing behind."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import torch

from services.common.bundled import SMOLLM2_GGUF
from tests.procs import Mesh
from tests.textgen.conftest import QUESTION, register_bundled_gguf

pytestmark = pytest.mark.integration


def names(mesh: Mesh) -> list[str]:
    """Every model the registry lists."""
    return sorted(m["name"] for m in httpx.get(f"{mesh.base_url}/v1/models", timeout=30).json()["models"])


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("random", "does not start with the GGUF magic"),
        ("garbled", "cannot be read"),
        ("truncated", "cannot be read"),
    ],
)
def test_bad_gguf_is_refused_with_its_reason(mesh: Mesh, case: str, reason: str) -> None:
    assert SMOLLM2_GGUF.path is not None
    if case == "random":
        data = os.urandom(64 * 1024)
    elif case == "garbled":
        data = b"GGUF" + os.urandom(64 * 1024)  # the magic, then noise
    else:
        with Path(SMOLLM2_GGUF.path).open("rb") as handle:
            data = handle.read(2_000_000)  # a real header whose tensors run past the end
    before = names(mesh)
    reply = httpx.post(
        f"{mesh.base_url}/v1/models",
        data={"name": f"bad-gguf-{case}", "format": "gguf"},
        files={"file": ("model.gguf", data)},
        timeout=120,
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["reason"] == "MODEL_VALIDATION_FAILED"
    assert reason in error["message"], error
    assert names(mesh) == before


def test_a_tensor_model_is_no_language_model(mesh: Mesh) -> None:
    reply = httpx.post(
        f"{mesh.base_url}/v1/chat/completions",
        json={"model": "example", "messages": [{"role": "user", "content": "hi"}]},
        timeout=60,
    )
    assert reply.status_code == 404, reply.text
    assert "not a language model" in reply.json()["error"]["message"]


@pytest.mark.slow
def test_registered_gguf_generates_by_name(llm_mesh: Mesh) -> None:
    """A copy of the bundled GGUF, uploaded under another name, answers greedily exactly as the
    bundled model does (same weights, same engine), and reports its own name."""
    assert SMOLLM2_GGUF.path is not None
    base = llm_mesh.base_url
    with Path(SMOLLM2_GGUF.path).open("rb") as handle:
        reply = httpx.post(
            f"{base}/v1/models",
            data={"name": "smollm2-copy", "format": "gguf"},
            files={"file": ("SmolLM2-copy.gguf", handle)},
            timeout=300,
        )
    assert reply.status_code == 201, reply.text
    stored = httpx.get(f"{base}/api/v1/models/smollm2-copy", timeout=30).json()
    assert stored["success"], stored

    def ask(model: str) -> dict:
        answer = httpx.post(
            f"{base}/v1/chat/completions",
            json={
                "model": model,
                "messages": [{"role": "user", "content": QUESTION}],
                "temperature": 0,
                "max_tokens": 12,
            },
            timeout=300,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    copy, bundled = ask("smollm2-copy"), ask("default")
    assert copy["model"] == "smollm2-copy"
    assert "Paris" in copy["choices"][0]["message"]["content"]
    assert copy["choices"][0]["message"]["content"] == bundled["choices"][0]["message"]["content"]
    # The same tokens; what each model's prompt cache held depends on what it served before.
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert copy["usage"][key] == bundled["usage"][key], key


def test_a_quantized_load_replaces_what_served_the_name(llm_mesh: Mesh) -> None:
    """Loading a re-quantized variant leaves only the variant on the workers (the stored weights no
    request reaches any more are unloaded), each Triton model reports its own quantization, and an
    unload leaves nothing of the model."""
    base, name = llm_mesh.base_url, "smollm2-variants"
    register_bundled_gguf(llm_mesh, name)

    def held() -> list[dict[str, Any]]:
        states = httpx.get(f"{base}/models/managed", timeout=60).json()["result"]
        return [s for s in states if s["name"] == name and s["workers"]]

    try:
        for quantization, want in (("", "Q4_1"), ("int8", "Q8_0"), ("none", "Q4_1")):
            body = {"quantization": quantization} if quantization else {}
            loaded = httpx.post(f"{base}/api/v1/models/{name}/load", json=body, timeout=600)
            assert loaded.status_code == 200 and loaded.json()["model"]["quantization"] == want, loaded.text
            [only] = held()
            assert only["triton_name"].endswith("q8_0") == (want == "Q8_0"), only
            assert (
                httpx.get(f"{base}/api/v1/models/{name}", timeout=60).json()["model"]["quantization"] == want
            )
        unloaded = httpx.delete(f"{base}/api/v1/models/{name}/unload", timeout=60)
        assert unloaded.status_code == 200 and not held(), unloaded.text
    finally:
        httpx.delete(f"{base}/v1/models/{name}", timeout=60)


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip archive holding ``files``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_of(files: dict[str, bytes]) -> bytes:
    """A gzipped tar archive holding ``files`` (names taken as given, ``..`` included)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


CONFIG = json.dumps({"architectures": ["LlamaForCausalLM"], "model_type": "llama"}).encode()


@pytest.mark.parametrize(
    ("case", "data", "reason"),
    [
        ("not-an-archive", os.urandom(4096), "neither a zip nor a tar archive"),
        ("climbs-out", tar_of({"../evil.json": b"{}", "config.json": CONFIG}), "outside the model directory"),
        ("no-config", zip_of({"tokenizer.json": b"{}"}), "no config.json"),
        (
            "not-causal",
            zip_of({"config.json": json.dumps({"architectures": ["BertModel"]}).encode()}),
            "no causal language model",
        ),
        (
            "pickled-weights",
            zip_of({"config.json": CONFIG, "tokenizer.json": b"{}", "pytorch_model.bin": b"\x80\x04."}),
            "pickles are refused",
        ),
        (
            "bad-safetensors",
            zip_of({"config.json": CONFIG, "tokenizer.json": b"{}", "model.safetensors": b"\xff" * 64}),
            "not a readable safetensors file",
        ),
    ],
)
def test_bad_model_archive_is_refused_with_its_reason(
    mesh: Mesh, case: str, data: bytes, reason: str
) -> None:
    before = names(mesh)
    reply = httpx.post(
        f"{mesh.base_url}/v1/models",
        data={"name": f"bad-hf-{case}", "format": "transformers"},
        files={"file": ("model.zip", data)},
        timeout=120,
    )
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["reason"] == "MODEL_VALIDATION_FAILED"
    assert reason in error["message"], error
    assert names(mesh) == before


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small randomly initialised Llama with SmolLM2's tokenizer, saved as a Hugging Face directory."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    assert SMOLLM2_GGUF.path is not None
    directory = tmp_path_factory.mktemp("tiny-llama")
    source = Path(SMOLLM2_GGUF.path)
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    tokenizer.save_pretrained(directory)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(directory, safe_serialization=True)
    return directory


@pytest.mark.slow
def test_registered_hf_directory_generates_by_name(llm_mesh: Mesh, tiny_model_dir: Path) -> None:
    """The directory, uploaded as a tar.gz, answers greedily exactly as transformers ``generate`` on
    the same directory does."""
    from services.inference.llm.engines.transformers_loader import load_causal_lm

    archive = tiny_model_dir.parent / "tiny-llama.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tiny_model_dir, arcname="tiny-llama")  # one top-level folder, as users pack it
    base = llm_mesh.base_url
    with archive.open("rb") as handle:
        reply = httpx.post(
            f"{base}/v1/models",
            data={"name": "tiny-llama", "format": "transformers"},
            files={"file": ("tiny-llama.tgz", handle)},
            timeout=300,
        )
    assert reply.status_code == 201, reply.text
    assert reply.json()["format"] == "transformers"
    prompt = "Once upon a time"
    answer = httpx.post(
        f"{base}/v1/completions",
        json={"model": "tiny-llama", "prompt": prompt, "temperature": 0, "max_tokens": 8},
        timeout=300,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["model"] == "tiny-llama"
    local = load_causal_lm(tiny_model_dir, "cpu")
    prompt_ids = local.tokenizer(prompt)["input_ids"]
    output = local.model.generate(torch.tensor([prompt_ids]), max_new_tokens=8, do_sample=False)
    expected = [t for t in output[0][len(prompt_ids) :].tolist() if t not in local.eos_token_ids]
    assert body["choices"][0]["text"] == local.tokenizer.decode(expected, skip_special_tokens=True)
    assert body["usage"]["prompt_tokens"] == len(prompt_ids)
    # The transformers engine's tokenizer routes and token-id prompts: its own tokenizer's ids.
    tokenized = httpx.post(
        f"{base}/tokenize",
        json={"model": "tiny-llama", "prompt": prompt, "return_token_strs": True},
        timeout=60,
    ).json()
    assert tokenized["tokens"] == prompt_ids
    assert tokenized["token_strs"] == local.tokenizer.convert_ids_to_tokens(prompt_ids)
    as_ids = httpx.post(
        f"{base}/v1/completions",
        json={"model": "tiny-llama", "prompt": prompt_ids, "temperature": 0, "max_tokens": 8, "echo": True},
        timeout=300,
    ).json()
    assert as_ids["choices"][0]["text"] == local.tokenizer.decode(prompt_ids) + body["choices"][0]["text"]
    info = httpx.get(f"{base}/tokenizer_info", params={"model": "tiny-llama"}, timeout=60).json()
    assert info["eos_token"] == local.tokenizer.eos_token and info["vocab_size"] > 0
