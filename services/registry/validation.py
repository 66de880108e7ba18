"""Artifact validation: what a file really is, whether it is sound, and its input/output signature.

* ONNX: parsed, ``onnx.checker`` (full check) and shape inference; inputs and outputs with names,
  dtypes and shapes from the graph (symbolic or unknown dimensions become -1).
* TorchScript: loaded with ``torch.jit.load`` in a separate, time-limited process
  (:mod:`services.registry.torchscript_probe`); the signature comes from ``forward``'s schema and a
  trial run on zeros of the declared input shape.
* GGUF (causal language models): the header, metadata and tensor table are read with the ``gguf``
  package (memory-mapped, no weights de-quantized); the file must carry an architecture, a
  tokenizer and tensors that fit inside it. Stored with task ``text-generation``.
* Hugging Face directories (format ``transformers``), uploaded as one zip or tar(.gz) archive:
  safe member names only (:mod:`services.common.model_archive`), a ``config.json`` naming a causal
  LM architecture, a tokenizer and ``*.safetensors`` weights whose headers parse and fit; pickled
  weights are never opened (and never extracted). Stored with task ``text-generation``.
* Plain pickles (``torch.save`` files, raw pickles) are refused without being opened: unpickling
  runs arbitrary code.

No transport imports.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from services.common.errors import InvalidInput, ModelValidationFailed
from services.common.model_archive import PICKLE_SUFFIXES, ModelArchive, UnsafeArchive
from services.registry.torchscript_probe import input_shapes

_ONNX_TYPES = {
    1: "FP32",
    2: "UINT8",
    3: "INT8",
    5: "INT16",
    6: "INT32",
    7: "INT64",
    8: "BYTES",
    9: "BOOL",
    10: "FP16",
    11: "FP64",
}
ROOT = Path(__file__).resolve().parents[2]
GGUF_MAGIC = b"GGUF"


@dataclass
class Validated:
    """What validation learned about an artifact."""

    format: str
    inputs: list[dict] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    task: str = "tensor"
    capabilities: list[str] = field(default_factory=lambda: ["tensor"])


def fail(message: str, suggestion: str = "", **details: object) -> ModelValidationFailed:
    """A validation failure with its precise reason."""
    return ModelValidationFailed(message, details=details, suggestion=suggestion)


#: What each detected kind of content is, for refusals.
_DESCRIBED = {"torchscript": "is a TorchScript archive", "gguf": "is a GGUF file"}


def sniff(path: Path) -> str:
    """``empty``, ``gguf``, ``torchscript``, ``pickle``, ``zip`` or ``other`` (ONNX has no magic number)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if not head:
        return "empty"
    if head == GGUF_MAGIC:
        return "gguf"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "pickle"
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return "other"
        if any("/code/" in n for n in names) and any(n.endswith("constants.pkl") for n in names):
            return "torchscript"
        if any(n.endswith("data.pkl") for n in names):
            return "pickle"
        return "zip"
    return "other"


def validate(path: Path, declared: str, options: dict[str, str] | None = None) -> Validated:
    """Checks an artifact against its declared format ("" to detect); raises MODEL_VALIDATION_FAILED."""
    options = options or {}
    kind = sniff(path)
    if kind == "empty":
        raise fail("the uploaded file is empty", "send the model file's bytes")
    if kind == "pickle":
        raise fail(
            "the file is a plain Python pickle (torch.save); pickles are refused because loading "
            "one runs arbitrary code",
            "export the model with torch.jit.script/torch.jit.trace (TorchScript) or to ONNX",
            detected_format="pickle",
        )
    if declared == "transformers":
        return _transformers(path)
    detected = kind if kind in ("torchscript", "gguf") else "onnx"
    if declared in ("pytorch",) and detected == "torchscript":
        declared = "torchscript"
    if declared == "gguf" and detected != "gguf":
        raise fail(
            "the file is not a GGUF model: it does not start with the GGUF magic bytes"
            + (f" (it {_DESCRIBED[detected]})" if detected in _DESCRIBED else ""),
            "upload the complete .gguf file",
            declared_format="gguf",
            detected_format=detected if detected in _DESCRIBED else "unknown",
        )
    if declared and declared != detected:
        raise fail(
            f"declared format {declared!r} does not match the content, which "
            + _DESCRIBED.get(detected, "is not a TorchScript archive"),
            "declare the format the file really has",
            declared_format=declared,
            detected_format=detected if detected in _DESCRIBED else "unknown",
        )
    if detected == "torchscript":
        return _torchscript(path, options)
    if detected == "gguf":
        return _gguf(path)
    return _onnx(path, declared_onnx=declared == "onnx")


def _onnx(path: Path, declared_onnx: bool) -> Validated:
    import onnx
    from google.protobuf.message import DecodeError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError, OSError) as error:
        what = "is not a valid ONNX protobuf" if declared_onnx else "is neither ONNX nor TorchScript"
        raise fail(
            f"the file {what} (truncated or corrupt?): {str(error)[:200]}",
            "upload the complete .onnx file",
            detected_format="unknown",
        ) from None
    if not model.graph.node or not model.graph.output:
        raise fail(
            "the file parsed as protobuf but holds no ONNX graph (random or truncated bytes?)",
            "upload the complete .onnx file",
            detected_format="unknown",
        )
    try:
        onnx.checker.check_model(model, full_check=True)
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError, Exception) as error:
        raise fail(f"ONNX check failed: {str(error).splitlines()[0][:300]}", "re-export the model") from None
    initializers = {i.name for i in model.graph.initializer}

    def spec(value: onnx.ValueInfoProto) -> dict:
        tensor = value.type.tensor_type
        dtype = _ONNX_TYPES.get(tensor.elem_type)
        if dtype is None:
            raise fail(f"tensor {value.name!r} has an unsupported ONNX element type {tensor.elem_type}")
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
        return {"name": value.name, "datatype": dtype, "shape": dims}

    inputs = [spec(v) for v in model.graph.input if v.name not in initializers]
    outputs = [spec(v) for v in model.graph.output]
    labels = {
        "opset": str(max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)),
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "nodes": str(len(model.graph.node)),
    }
    return Validated("onnx", inputs, outputs, labels)


def _torchscript(path: Path, options: dict[str, str]) -> Validated:
    try:  # checked here too, so a malformed option is the caller's 400 naming it, before any probe
        input_shapes(options.get("input_shape", ""))
    except ValueError as error:
        raise InvalidInput(str(error), details={"field": "input_shape"}) from None
    probe = [sys.executable, "-m", "services.registry.torchscript_probe", str(path), json.dumps(options)]
    try:
        done = subprocess.run(probe, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        raise fail("loading the TorchScript archive took longer than 120 s") from None
    lines = done.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise fail(f"the TorchScript probe crashed: {done.stderr.strip()[-300:]}") from None
    if "error" in result:
        raise fail(result["error"], result.get("suggestion", ""))
    return Validated("torchscript", result["inputs"], result["outputs"], result.get("labels", {}))


def _gguf(path: Path) -> Validated:
    """Reads a GGUF file's header, metadata and tensor table (memory-mapped; weights stay packed)."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except Exception as error:  # the reader raises whatever numpy does on a short or garbled file
        raise fail(
            f"the GGUF file cannot be read (truncated or corrupt?): {str(error)[:200]}",
            "upload the complete .gguf file",
            detected_format="gguf",
        ) from None

    def text(key: str) -> str:
        value = reader.fields.get(key)
        if value is None:
            return ""
        try:
            return str(value.contents())
        except Exception:
            return ""

    architecture = text("general.architecture")
    if not architecture:
        raise fail("the GGUF file names no model architecture (general.architecture)", detected_format="gguf")
    if not text("tokenizer.ggml.model"):
        raise fail(
            "the GGUF file carries no tokenizer (tokenizer.ggml.*); meshserve needs one to serve it",
            "convert the model with its tokenizer (llama.cpp convert_hf_to_gguf.py)",
            detected_format="gguf",
        )
    if not reader.tensors:
        raise fail("the GGUF file holds no tensors", detected_format="gguf")
    parameters = sum(int(t.n_elements) for t in reader.tensors)
    labels = {
        "architecture": architecture,
        "parameters": str(parameters),
        "tensors": str(len(reader.tensors)),
        "gguf_version": text("GGUF.version"),
    }
    for label, key in (
        ("context_length", f"{architecture}.context_length"),
        ("model_name", "general.name"),
        ("file_type", "general.file_type"),
        ("license", "general.license"),
    ):
        if value := text(key):
            labels[label] = value
    chat = bool(text("tokenizer.chat_template"))
    capabilities = ["text-generation", "chat"] if chat else ["text-generation"]
    return Validated("gguf", labels=labels, task="text-generation", capabilities=capabilities)


#: Files any one of which gives the model a tokenizer.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json")


def _transformers(path: Path) -> Validated:
    """Checks an archive of a Hugging Face causal LM directory without loading any weights."""
    suggestion = "archive the model directory (tar czf model.tgz -C path/to/model .) and upload that"
    try:
        archive = ModelArchive(path)
    except UnsafeArchive as error:
        raise fail(
            f"the archive cannot be used: {error}", suggestion, declared_format="transformers"
        ) from None
    except Exception as error:  # tarfile and zipfile raise many kinds on a damaged archive
        raise fail(f"the archive is corrupt: {str(error)[:200]}", suggestion) from None
    with archive:
        names = archive.names()
        if "config.json" not in names:
            raise fail("the archive has no config.json at its top level", suggestion, files=len(names))
        try:
            with archive.open("config.json") as handle:
                config = json.loads(handle.read(1 << 20))
        except (ValueError, OSError) as error:
            raise fail(f"config.json is not valid JSON: {str(error)[:200]}") from None
        architectures = [str(a) for a in config.get("architectures") or []]
        causal = [a for a in architectures if a.endswith(("ForCausalLM", "LMHeadModel"))]
        if not causal:
            raise fail(
                f"config.json names no causal language model architecture (got {architectures or 'none'})",
                "text generation serves *ForCausalLM models",
            )
        if not any(n in names for n in TOKENIZER_FILES):
            raise fail(
                f"the archive has no tokenizer ({', '.join(TOKENIZER_FILES)})",
                "save the tokenizer into the directory too (tokenizer.save_pretrained)",
            )
        weights = sorted(n for n in names if n.endswith(".safetensors"))
        if not weights:
            pickled = sorted(n for n in names if n.endswith(PICKLE_SUFFIXES))
            if pickled:
                raise fail(
                    f"the weights ({', '.join(pickled[:3])}) are Python pickles; pickles are refused "
                    "because loading one runs arbitrary code",
                    "save the model with model.save_pretrained(dir, safe_serialization=True)",
                    detected_format="pickle",
                )
            raise fail("the archive holds no *.safetensors weights", suggestion)
        sizes = {m.name: m.size for m in archive.members}
        parameters = sum(_safetensors_elements(archive, name, sizes[name]) for name in weights)
        chat = "chat_template.jinja" in names or _has_chat_template(archive, names)
    labels = {
        "architecture": causal[0],
        "model_type": str(config.get("model_type", "")),
        "parameters": str(parameters),
        "files": str(len(names)),
    }
    context = config.get("max_position_embeddings") or config.get("n_positions")
    if context:
        labels["context_length"] = str(context)
    capabilities = ["text-generation", "chat"] if chat else ["text-generation"]
    return Validated("transformers", labels=labels, task="text-generation", capabilities=capabilities)


def _safetensors_elements(archive: ModelArchive, name: str, size: int) -> int:
    """Elements of every tensor a safetensors file declares; its header must parse and fit the file."""
    try:
        with archive.open(name) as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > min(size, 100 << 20):
                raise ValueError(f"header of {length} bytes")
            header = json.loads(handle.read(length))
        elements, end = 0, 0
        for key, tensor in header.items():
            if key == "__metadata__":
                continue
            count = 1
            for dim in tensor["shape"]:
                count *= int(dim)
            elements += count
            end = max(end, int(tensor["data_offsets"][1]))
        if 8 + length + end > size:
            raise ValueError("the tensors run past the end of the file (truncated?)")
    except (ValueError, KeyError, TypeError, struct.error, OSError) as error:
        raise fail(f"{name} is not a readable safetensors file: {str(error)[:200]}") from None
    return elements


def _has_chat_template(archive: ModelArchive, names: set[str]) -> bool:
    if "tokenizer_config.json" not in names:
        return False
    try:
        with archive.open("tokenizer_config.json") as handle:
            return bool(json.loads(handle.read(16 << 20)).get("chat_template"))
    except (ValueError, OSError):
        return False
