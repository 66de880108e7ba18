"""What a language model will hold in memory once loaded, before it is: for the memory budget's
first load (afterwards the worker's measured figure is used).

A GGUF model in llama.cpp holds its weights (the file, memory-mapped), one KV cache of
``context x slots`` cells (f16 keys and values for every layer: the shape comes from the GGUF
header, read without loading the weights), and the worker's Python runtime. A Hugging Face model in
torch holds its weights in fp32 (up to twice a 16-bit file) and the runtime. Estimates err high: the
budget must hold from the first load on.
"""

from __future__ import annotations

from pathlib import Path

from services.inference.llm.engines import is_gguf
from services.inference.llm.model_dir import LLMSpec

#: Resident memory of a llama.cpp worker instance before its weights and KV cache: the Triton python
#: stub, the interpreter and the engine's libraries (68 MB in process here; the stub adds its own:
#: a SmolLM2 instance with 2 slots measured 275 MiB in all, its 94 MiB file and 90 MiB cache included).
RUNTIME_BYTES = 200 * 2**20
#: The same for a model in torch (transformers or vLLM), whose import alone took about 170 MB more.
TORCH_RUNTIME_BYTES = 400 * 2**20
#: Bytes of one key or value element in llama.cpp's default KV cache type (f16).
KV_ELEMENT_BYTES = 2


def estimate_bytes(spec: LLMSpec) -> int:
    """Resident bytes one instance of the model is expected to hold once loaded."""
    if spec.source.is_file() and is_gguf(spec.source):
        return RUNTIME_BYTES + spec.source.stat().st_size + gguf_kv_bytes(spec.source, spec)
    return TORCH_RUNTIME_BYTES + 2 * size_of(spec.source)


def gguf_kv_bytes(path: Path, spec: LLMSpec) -> int:
    """The KV cache llama.cpp allocates for ``spec``: every slot's cells, every layer, keys and values."""
    import gguf

    reader = gguf.GGUFReader(str(path))

    def field(key: str, default: int = 0) -> int:
        found = reader.fields.get(key)
        return int(found.contents()) if found is not None else default

    arch = str(reader.fields["general.architecture"].contents())
    layers = field(f"{arch}.block_count")
    width = field(f"{arch}.embedding_length")
    heads = field(f"{arch}.attention.head_count", 1) or 1
    kv_heads = field(f"{arch}.attention.head_count_kv", heads)
    key_length = field(f"{arch}.attention.key_length", width // heads)
    value_length = field(f"{arch}.attention.value_length", width // heads)
    trained = field(f"{arch}.context_length", 2048)
    context = min(trained, spec.context_tokens) if spec.context_tokens > 0 else trained
    cells = context * max(1, spec.max_batch)
    return layers * cells * kv_heads * (key_length + value_length) * KV_ELEMENT_BYTES


def size_of(path: Path) -> int:
    """Bytes of a weights file, or of every file under a model directory (0 when unreadable)."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0
