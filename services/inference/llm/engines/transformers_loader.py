"""Loads a causal language model and its tokenizer into transformers, from a GGUF file (de-quantized) or a local Hugging Face directory."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.errors import ModelLoadFailed, ModelNotFound
from services.inference.llm.engines import is_gguf

log = logging.getLogger("meshserve.llm")


@dataclass
class LoadedModel:
    """A model ready to run, with what the engine needs to know about it."""

    model: Any
    tokenizer: Any
    device: str
    context_length: int
    eos_token_ids: frozenset[int]
    load_seconds: float
    parameters: int


def pick_device(preference: str = "auto") -> str:
    """``cuda`` when asked for or available (auto), else ``cpu``."""
    import torch

    if preference == "cpu":
        return "cpu"
    if preference.startswith("cuda") or (preference == "auto" and torch.cuda.is_available()):
        return preference if preference.startswith("cuda") else "cuda"
    return "cpu"


def load_causal_lm(source: str | Path, device: str = "auto") -> LoadedModel:
    """Loads a ``.gguf`` file (de-quantized by transformers) or a Hugging Face model directory."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(source)
    if not path.exists():
        raise ModelNotFound(f"language model source {path} does not exist", details={"path": str(path)})
    if path.is_file() and not is_gguf(path):
        raise ModelLoadFailed(
            f"{path.name} is neither a GGUF file nor a model directory", details={"path": str(path)}
        )
    directory, kwargs = (path.parent, {"gguf_file": path.name}) if path.is_file() else (path, {})
    started = time.perf_counter()
    target = pick_device(device)
    try:
        tokenizer = AutoTokenizer.from_pretrained(directory, **kwargs)
        dtype = torch.float16 if target.startswith("cuda") else torch.float32
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype, **kwargs)
    except (OSError, ValueError) as error:
        raise ModelLoadFailed(f"cannot load {path}: {error}", details={"path": str(path)}) from error
    torch.nn.Module.to(model, target).eval()
    config = model.config
    context = int(getattr(config, "max_position_embeddings", 0) or tokenizer.model_max_length or 2048)
    eos = model.generation_config.eos_token_id if model.generation_config else None
    eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        eos_ids.add(int(tokenizer.eos_token_id))
    seconds = time.perf_counter() - started
    parameters = sum(p.numel() for p in model.parameters())
    log.info(
        "language model loaded", extra={"path": str(path), "device": target, "seconds": round(seconds, 2)}
    )
    return LoadedModel(model, tokenizer, target, context, frozenset(eos_ids), seconds, parameters)


def hf_tokenize(tokenizer: Any, text: str, add_special_tokens: bool) -> list[int]:
    """A text's token ids from a Hugging Face tokenizer, with its special tokens (BOS) or not."""
    return list(tokenizer.encode(text, add_special_tokens=add_special_tokens))


def hf_tokenizer_info(tokenizer: Any) -> dict[str, Any]:
    """A Hugging Face tokenizer's special tokens (None where it has none) and chat template."""
    return {
        "tokenizer_class": type(tokenizer).__name__,
        "eos_token": tokenizer.eos_token,
        "bos_token": tokenizer.bos_token,
        "pad_token": tokenizer.pad_token,
        "chat_template": getattr(tokenizer, "chat_template", None),
    }


def encode_prompt(tokenizer: Any, prompt: str, messages: list[dict[str, str]]) -> list[int]:
    """Prompt token ids from a Hugging Face tokenizer: chat messages through its chat template,
    else the raw prompt (the transformers and vLLM engines both tokenize this way)."""
    from services.inference.llm.limits import check_roles

    if messages:
        check_roles(messages)
        rendered = tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=True, return_dict=True
        )
        return list(rendered["input_ids"])
    return list(tokenizer(prompt)["input_ids"])
