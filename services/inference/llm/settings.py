"""Settings of text generation in the inference service (``MESHSERVE_INFERENCE_LLM_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.common.bundled import SMOLLM2_GGUF
from services.inference.priority import AGING_SECONDS


class GenerationSettings(BaseSettings):
    """Language models, limits and the worker that serves them."""

    model_config = SettingsConfigDict(env_prefix="MESHSERVE_INFERENCE_LLM_", extra="ignore")

    default_model: str = Field(
        SMOLLM2_GGUF.model_id, description="Model used when a request names none or 'default'."
    )
    models: dict[str, str] = Field(
        default_factory=dict,
        description='Extra language models, JSON {"id": "/path/to/model.gguf or HF directory"}.',
    )
    preload: str = Field(
        "default",
        description="Language model loaded in the background at start ('default': the default model);"
        " empty loads on first use.",
    )
    default_max_tokens: int = Field(256, description="max_tokens when a request sets none.")
    max_prompt_chars: int = Field(
        262_144, description="Longest prompt accepted before tokenizing, in characters."
    )
    max_batch: int = Field(
        16, description="Sequences one model decodes together (continuous batching slots)."
    )
    max_waiting: int = Field(
        64,
        ge=0,
        description="Sequences one model holds waiting for a batch slot; past max_batch + max_waiting a "
        "new generation is refused at once with 429 and Retry-After.",
    )
    priority_aging_seconds: float = Field(
        AGING_SECONDS,
        ge=0,
        description="Head start in a model's queue per priority level (pro 10, enterprise 20): a"
        " waiting generation's rank is its arrival time minus priority times this, smallest first, so"
        " a free request that has waited longer than a premium one's head start goes first.",
    )
    device: str = Field("auto", description="'auto', 'cpu' or 'cuda' for the language models.")
    engine: str = Field(
        "auto",
        description="Language-model engine: 'auto' (llama.cpp for GGUF; vLLM for Hugging Face models on"
        " CUDA; else transformers), 'llama.cpp', 'vllm' or 'transformers'.",
    )
    threads: int = Field(
        0,
        ge=0,
        description="CPU threads of a language model's engine; 0 uses every core the worker may run on"
        " (its CPU affinity).",
    )
    adaptive_threads: bool = Field(
        True,
        description="Each llama.cpp decode runs on all of `threads` or half of them, whichever has been"
        " faster for decodes of its size, timed as they run (on 2 cores, one stream decoded 97"
        " tokens/s on 2 threads and 54 on 1 alone, but 4.7 and 56 beside one busy process).",
    )
    cpu_turns: bool = Field(
        True,
        description="llama.cpp engines on the CPU take turns on its cores, one decode step at a time"
        " (two engines each using every core, decoding at once, made a quarter to a half of one"
        " engine's tokens/s between them; taking turns, 0.7 of it).",
    )
    context_tokens: int = Field(
        2048,
        ge=0,
        description="Tokens one sequence may hold, prompt and output (0: the model's trained context)."
        " llama.cpp reserves this many KV-cache cells per batch slot.",
    )
    load_timeout_seconds: float = Field(
        240.0, description="How long starting a worker and loading a model may take."
    )
    work_dir: Path = Field(
        Path("var/llm"), description="Model repository and logs of the generation worker (no pool)."
    )
