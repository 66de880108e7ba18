"""Which engine serves a language model, chosen per model format and device.

| format | device | engine |
|---|---|---|
| GGUF file | CPU, or CUDA with a CUDA build of llama.cpp | llama.cpp (``llama-cpp-python``) |
| Hugging Face directory | CUDA with vLLM installed | vLLM |
| Hugging Face directory | otherwise | transformers (fallback) |
| GGUF file | llama-cpp-python missing, or ``engine=transformers`` | transformers (de-quantized; fallback) |

Every engine offers the same calls (:class:`Engine`): the worker protocol and the tests use only
those. ``engine`` in the settings forces one (``auto`` chooses as above).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from services.common.errors import InvalidInput, ModelLoadFailed
from services.inference.llm.sampling import SamplingParams
from services.inference.llm.sequence import Emit

ENGINES = ("auto", "llama.cpp", "vllm", "transformers")


class Engine(Protocol):
    """What the worker protocol needs of a language-model engine."""

    @property
    def device(self) -> str:
        """Where the model runs."""
        ...

    @property
    def vocab_size(self) -> int:
        """The width of the model's logits (token ids run below it)."""
        ...

    @property
    def context_length(self) -> int:
        """Tokens one sequence may hold, prompt and output together."""
        ...

    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        """Prompt token ids."""
        ...

    def tokenize(self, text: str, add_special_tokens: bool) -> list[int]:
        """A text's token ids, with the model's leading special tokens (BOS) or not."""
        ...

    def token_strs(self, ids: list[int]) -> list[str]:
        """Each token as the vocabulary spells it."""
        ...

    def tokenizer_info(self) -> dict[str, Any]:
        """The special tokens (``eos_token``, ``bos_token``, ``pad_token``: None where there is
        none), ``chat_template`` and ``tokenizer_class``."""
        ...

    def text_of(self, ids: list[int]) -> str:
        """The text that prompt token ids stand for (control tokens as the model writes them)."""
        ...

    def check_context(self, prompt_ids: list[int], max_tokens: int, explicit: bool) -> int:
        """The max_tokens to use, or INVALID_INPUT when the request cannot fit the context."""
        ...

    def grammar(self, params: SamplingParams) -> Any:
        """The constraint a request's response_format compiles to (None: free text, or an engine that
        constrains output itself); INVALID_INPUT when it cannot be compiled."""
        ...

    def submit(
        self,
        seq_id: str,
        prompt_ids: list[int],
        params: SamplingParams,
        emit: Emit,
        is_cancelled: Any = None,
        grammar: Any = None,
        priority: int = 0,
        aging_seconds: float = 0.0,
    ) -> Any:
        """Starts one sequence; its events go to ``emit``. Waiting sequences are admitted by
        priority with aging (:mod:`services.inference.llm.scheduler`)."""
        ...

    def cancel(self, seq_id: str) -> None:
        """Drops a sequence at its next step; it ends with ``{"cancelled": true, "usage": …}``."""
        ...

    def embed(self, texts: list[str | list[int]]) -> tuple[list[list[float]], int]:
        """Each input's mean-pooled final hidden states (each alone; a text, or token ids read as
        given), and the tokens read."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counters and facts (active, waiting, slots, completed, tokens_generated, device, engine …)."""
        ...

    def stop(self) -> None:
        """Ends the engine; live sequences get an error event."""
        ...


@dataclass(frozen=True)
class EngineChoice:
    """How to load one model: the engine, and why it was chosen."""

    engine: str
    reason: str


def is_gguf(path: Path) -> bool:
    """Whether a file starts with the GGUF magic bytes (registry artifacts carry no suffix)."""
    with path.open("rb") as handle:
        return handle.read(4) == b"GGUF"


def choose(source: Path, device: str, requested: str = "auto") -> EngineChoice:
    """The engine for a model at ``source`` on ``device`` ('auto', 'cpu', 'cuda')."""
    from services.inference.llm.engines import llamacpp, vllm_engine

    if requested not in ENGINES:
        raise InvalidInput(
            f"unknown language-model engine {requested!r}",
            details={"field": "engine", "provided": requested, "allowed": list(ENGINES)},
        )
    gguf = source.is_file() and is_gguf(source)
    if requested == "llama.cpp" or (requested == "auto" and gguf):
        if not gguf:
            raise ModelLoadFailed(
                f"llama.cpp serves GGUF files; {source.name} is not one", details={"path": str(source)}
            )
        if llamacpp.available():
            return EngineChoice("llama.cpp", "GGUF file")
        if requested == "llama.cpp":
            raise ModelLoadFailed(
                "the llama.cpp engine is not installed (pip install llama-cpp-python)",
                details={"engine": "llama.cpp"},
            )
        return EngineChoice("transformers", "fallback: llama-cpp-python is not installed")
    if requested == "vllm" or (requested == "auto" and vllm_engine.usable(device)):
        if gguf:
            raise ModelLoadFailed(
                "vLLM serves Hugging Face model directories here; this is a GGUF file",
                details={"path": str(source), "engine": "vllm"},
            )
        if not vllm_engine.usable(device):
            raise ModelLoadFailed(
                "the vLLM engine needs CUDA and the vllm package",
                details={"engine": "vllm", "device": device},
            )
        return EngineChoice("vllm", "Hugging Face model on CUDA")
    if requested == "transformers":
        return EngineChoice("transformers", "asked for in the settings")
    return EngineChoice("transformers", "fallback: a Hugging Face model without CUDA and vLLM")


def load_engine(
    source: Path,
    *,
    name: str,
    device: str = "auto",
    max_batch: int = 16,
    engine: str = "auto",
    threads: int = 0,
    context_tokens: int = 0,
    adaptive_threads: bool = True,
    cpu_turns: bool = True,
) -> Engine:
    """Loads the model at ``source`` into the engine :func:`choose` picks."""
    if not source.exists():
        from services.common.errors import ModelNotFound

        raise ModelNotFound(f"language model source {source} does not exist", details={"path": str(source)})
    choice = choose(source, device, engine)
    if choice.engine == "llama.cpp":
        from services.inference.llm.engines.llamacpp import LlamaCppEngine

        gpu_layers = 0 if device == "cpu" else -1  # all layers on the GPU when llama.cpp has CUDA
        return LlamaCppEngine(
            source,
            max_batch=max_batch,
            name=name,
            context_tokens=context_tokens,
            threads=threads,
            gpu_layers=gpu_layers,
            reason=choice.reason,
            adaptive_threads=adaptive_threads,
            cpu_turns=cpu_turns,
        )
    if choice.engine == "vllm":
        from services.inference.llm.engines.vllm_engine import VLLMEngine

        return VLLMEngine(source, name=name, max_batch=max_batch, context_tokens=context_tokens)
    from services.inference.llm.engines.transformers_engine import TransformersEngine
    from services.inference.llm.engines.transformers_loader import load_causal_lm

    return TransformersEngine(load_causal_lm(source, device), max_batch, name, choice.reason, context_tokens)
