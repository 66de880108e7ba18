"""Base models as a fine-tuning worker loads them, with GGUF conversions kept for the next run.

Training needs plain weights, so a GGUF base is de-quantized and its tokenizer rebuilt on every
load: 34 s for the bundled SmolLM2 on a 2-core machine, before the first step. The conversion is
kept as a Hugging Face directory (float32 safetensors and the tokenizer) named by the file's
SHA-256, and read from there next time in 0.5 s, with the same weights and the same tokens. Only
the ``entries`` most recently used conversions are kept (each is 4 bytes per parameter: 517 MB for
SmolLM2-135M); 0 keeps none. A conversion is written beside the others and renamed into place
whole, so a run never reads a half-written one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def load_base(source: Path, cache: Path | None = None, entries: int = 0) -> tuple[Any, Any]:
    """Tokenizer and model (float32) from a Hugging Face directory or a GGUF file."""
    if not source.is_file():
        return _from_directory(source)
    if cache is None or entries < 1:
        return _from_gguf(source)
    kept = cache / file_sha256(source)
    if kept.is_dir():
        os.utime(kept)  # most recently used
        return _from_directory(kept)
    tokenizer, model = _from_gguf(source)
    keep(tokenizer, model, kept)
    prune(cache, entries)
    return tokenizer, model


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def plain(model: Any) -> Any:
    """The model without the GGUF quantizer it was de-quantized by: it saves as plain weights."""
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def keep(tokenizer: Any, model: Any, target: Path) -> None:
    """Saves the conversion as ``target``, whole or not at all."""
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        plain(model).save_pretrained(partial, safe_serialization=True)
        tokenizer.save_pretrained(partial)
        partial.rename(target)
    except OSError:  # another run kept it first, or the disk is full: this run goes on without
        pass
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def prune(cache: Path, entries: int) -> None:
    """Removes all but the ``entries`` most recently used conversions."""
    if not cache.is_dir():
        return
    kept = sorted(
        (path for path in cache.iterdir() if path.is_dir() and not path.name.startswith(".")),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for stale in kept[entries:]:
        shutil.rmtree(stale, ignore_errors=True)


def _from_gguf(source: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    return _padded(tokenizer), model


def _from_directory(source: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    return _padded(tokenizer), AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32)


def _padded(tokenizer: Any) -> Any:
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
