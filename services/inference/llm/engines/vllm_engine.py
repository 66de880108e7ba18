"""The vLLM engine: Hugging Face models on CUDA, the way Triton's vLLM backend runs them.

vLLM brings its own continuous batching, paged attention and prefix caching, so this engine does
not use :class:`~services.inference.llm.scheduler.ContinuousBatcher`: it runs ``AsyncLLMEngine`` on
an event loop in a thread of its own (as Triton's vLLM backend does), turns each request into
``engine.generate(TokensPrompt, SamplingParams, request_id)`` and maps the outputs onto the
worker protocol's events. A caller that leaves aborts its request (``engine.abort``).

Only :func:`engine_args` and :func:`sampling_kwargs` (the configuration mapping) run without a GPU;
they are unit-tested everywhere. The engine itself is exercised on a CUDA machine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.common.errors import InvalidInput
from services.inference.llm.engine_info import EngineInfo, InfoBackedEngine, TokenRate
from services.inference.llm.limits import error_event
from services.inference.llm.sampling import SamplingParams
from services.inference.llm.sequence import Emit

log = logging.getLogger("meshserve.llm")

#: Share of GPU memory vLLM may take for weights and its KV cache.
GPU_MEMORY_UTILIZATION = 0.85


def usable(device: str) -> bool:
    """Whether vLLM can serve here: the package is installed, CUDA is present, and not forced off."""
    if device == "cpu":
        return False
    try:
        import torch
        import vllm  # noqa: F401
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def engine_args(source: Path, max_batch: int, context_tokens: int) -> dict[str, Any]:
    """``AsyncEngineArgs`` keyword arguments for one model directory."""
    args: dict[str, Any] = {
        "model": str(source),
        "tokenizer": str(source),
        "max_num_seqs": max_batch,
        "enable_prefix_caching": True,
        "gpu_memory_utilization": GPU_MEMORY_UTILIZATION,
        "disable_log_stats": True,
    }
    if context_tokens > 0:
        args["max_model_len"] = context_tokens
    return args


def sampling_kwargs(params: SamplingParams) -> dict[str, Any]:
    """vLLM ``SamplingParams`` keyword arguments with the same meaning as ours."""
    return {
        "n": 1,
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "top_k": params.top_k if params.top_k > 0 else -1,  # vLLM: -1 disables top-k
        "stop": list(params.stop),
        "frequency_penalty": params.frequency_penalty,
        "presence_penalty": params.presence_penalty,
        "seed": params.seed,
        # The sampled token's log-probability (for the mean confidence), and the top alternatives.
        "logprobs": params.top_logprobs if params.logprobs else 0,
        # echo with logprobs: the prompt tokens' too (vLLM lists the first one as None).
        "prompt_logprobs": params.top_logprobs if params.prompt_logprobs else None,
        "logit_bias": dict(params.logit_bias) or None,
    }


def json_schema_of(params: SamplingParams) -> dict[str, Any] | None:
    """The JSON Schema vLLM's structured outputs must follow (None for free text)."""
    if not params.constrained or params.response_format is None:
        return None
    return params.response_format.get("schema") or {"type": "object"}


def prompt_entries(
    prompt_ids: list[int], steps: list[dict[int, Any] | None], k: int, token_bytes: Callable[[int], bytes]
) -> list[dict[str, Any]]:
    """vLLM's prompt logprobs (None for the first token, then a step per token) as the worker
    protocol's entries: the first one has no log-probability."""
    first = token_bytes(prompt_ids[0])
    unscored = {
        "token": first.decode("utf-8", errors="replace"),
        "bytes": list(first),
        "logprob": None,
        "top": [],
    }
    scored = [step or {} for step in steps[1:]]
    return [unscored, *logprob_entries(prompt_ids[1:], scored, k, token_bytes)]


def logprob_entries(
    token_ids: list[int], steps: list[dict[int, Any]], k: int, token_bytes: Callable[[int], bytes]
) -> list[dict[str, Any]]:
    """vLLM's per-step logprobs (token id → Logprob with ``logprob`` and ``rank``) as the worker
    protocol's entries: the sampled token, then the ``k`` best by rank."""
    entries = []
    for token, step in zip(token_ids, steps, strict=False):
        best = sorted((t for t in step.items() if t[1].rank is not None), key=lambda t: t[1].rank)[:k]
        raw = token_bytes(token)
        entries.append(
            {
                "token": raw.decode("utf-8", errors="replace"),
                "bytes": list(raw),
                "logprob": float(step[token].logprob),
                "top": [
                    {
                        "token": token_bytes(t).decode("utf-8", errors="replace"),
                        "bytes": list(token_bytes(t)),
                        "logprob": float(lp.logprob),
                    }
                    for t, lp in best
                ],
            }
        )
    return entries


class VLLMEngine(InfoBackedEngine):
    """``AsyncLLMEngine`` on its own event-loop thread, behind the worker protocol's engine calls."""

    def __init__(self, source: Path, *, name: str, max_batch: int, context_tokens: int = 0) -> None:
        from transformers import AutoTokenizer
        from vllm import AsyncEngineArgs, AsyncLLMEngine

        self.name = name
        self.max_batch = max_batch
        self._tokenizer = AutoTokenizer.from_pretrained(source)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"vllm-{name}", daemon=True)
        self._thread.start()
        arguments = AsyncEngineArgs(**engine_args(source, max_batch, context_tokens))
        self._engine = asyncio.run_coroutine_threadsafe(
            self._create(AsyncLLMEngine, arguments), self._loop
        ).result()
        config = self._engine.model_config if hasattr(self._engine, "model_config") else None
        context = int(getattr(config, "max_model_len", 0) or context_tokens or 4096)
        self.info = EngineInfo("vllm", "cuda", context, "Hugging Face model on CUDA", 0, len(self._tokenizer))
        self._live: dict[str, concurrent.futures.Future[None]] = {}
        self._cancelled: set[str] = set()
        self.completed = 0
        self.tokens_generated = 0
        self.rate = TokenRate()

    @staticmethod
    async def _create(engine_class: Any, arguments: Any) -> Any:
        return engine_class.from_engine_args(arguments)

    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        """Prompt token ids through the model's own tokenizer and chat template."""
        from services.inference.llm.engines.transformers_loader import encode_prompt

        return encode_prompt(self._tokenizer, prompt, messages)

    def tokenize(self, text: str, add_special_tokens: bool) -> list[int]:
        """A text's token ids, with the tokenizer's special tokens or not."""
        from services.inference.llm.engines.transformers_loader import hf_tokenize

        return hf_tokenize(self._tokenizer, text, add_special_tokens)

    def token_strs(self, ids: list[int]) -> list[str]:
        """Each token as the vocabulary spells it."""
        return [str(t) for t in self._tokenizer.convert_ids_to_tokens(ids)]

    def tokenizer_info(self) -> dict[str, Any]:
        """Special tokens and chat template."""
        from services.inference.llm.engines.transformers_loader import hf_tokenizer_info

        return hf_tokenizer_info(self._tokenizer)

    def embed(self, texts: list[str | list[int]]) -> tuple[list[list[float]], int]:
        """A generating vLLM engine has no pooling output: embeddings need another engine."""
        raise InvalidInput(
            "embeddings are not served by the vLLM engine; register the model as GGUF (llama.cpp)",
            details={"field": "model"},
        )

    def grammar(self, params: SamplingParams) -> None:
        """vLLM constrains output itself (its structured outputs, from :func:`json_schema_of`)."""
        return None

    def text_of(self, ids: list[int]) -> str:
        """The text that prompt token ids stand for, control tokens included."""
        return str(self._tokenizer.decode(ids))

    def token_bytes(self, token: int) -> bytes:
        """The UTF-8 bytes of one token."""
        return str(self._tokenizer.decode([token])).encode()

    def submit(
        self,
        seq_id: str,
        prompt_ids: list[int],
        params: SamplingParams,
        emit: Emit,
        is_cancelled: Callable[[], bool] | None = None,
        grammar: None = None,
        priority: int = 0,
        aging_seconds: float = 0.0,
    ) -> None:
        """Starts the request on the engine's loop (vLLM schedules it in its own order: the
        priority is not used here)."""
        future = asyncio.run_coroutine_threadsafe(
            self._run(seq_id, prompt_ids, params, emit, is_cancelled or (lambda: False)), self._loop
        )
        self._live[seq_id] = future
        future.add_done_callback(lambda _: self._live.pop(seq_id, None))
        self._cancelled.discard(seq_id)

    def cancel(self, seq_id: str) -> None:
        """Marks a request cancelled: it is aborted at its next output, which reports its usage."""
        if seq_id in self._live:
            self._cancelled.add(seq_id)

    async def _run(
        self,
        seq_id: str,
        prompt_ids: list[int],
        params: SamplingParams,
        emit: Emit,
        is_cancelled: Callable[[], bool],
    ) -> None:
        from vllm import SamplingParams as VSamplingParams
        from vllm.sampling_params import RequestOutputKind

        extra: dict[str, Any] = {}
        schema = json_schema_of(params)
        if schema is not None:
            from vllm.sampling_params import StructuredOutputsParams

            extra["structured_outputs"] = StructuredOutputsParams(json=schema)
        sampling = VSamplingParams(**sampling_kwargs(params), **extra, output_kind=RequestOutputKind.DELTA)
        index = produced = 0
        logprob_sum = 0.0
        listed: dict[str, Any] = {}  # logprobs not sent yet
        try:
            async for output in self._engine.generate({"prompt_token_ids": prompt_ids}, sampling, seq_id):
                if is_cancelled() or seq_id in self._cancelled:
                    await self._engine.abort(seq_id)
                    self._cancelled.discard(seq_id)
                    usage = {"prompt_tokens": len(prompt_ids), "completion_tokens": produced}
                    emit({"cancelled": True, "usage": usage})
                    return
                piece = output.outputs[0]
                produced += len(piece.token_ids)
                self.tokens_generated += len(piece.token_ids)
                self.rate.note(self.tokens_generated)
                for token, step in zip(piece.token_ids, piece.logprobs or [], strict=False):
                    logprob_sum += step[token].logprob
                # Entries wait for an event that carries text: a step whose text is still an
                # incomplete character sends none, and its tokens go with the next.
                if params.logprobs:
                    listed.setdefault("logprobs", []).extend(
                        logprob_entries(
                            list(piece.token_ids),
                            list(piece.logprobs or []),
                            params.top_logprobs,
                            self.token_bytes,
                        )
                    )
                if params.prompt_logprobs and index == 0 and output.prompt_logprobs:
                    listed["prompt_logprobs"] = prompt_entries(
                        prompt_ids, list(output.prompt_logprobs), params.top_logprobs, self.token_bytes
                    )
                if not output.finished:
                    if piece.text:
                        emit({"text": piece.text, "index": index, **listed})
                        index += 1
                        listed = {}
                    continue
                self.completed += 1
                emit(
                    {
                        "text": piece.text,
                        "index": index,
                        "finish_reason": "length" if piece.finish_reason == "length" else "stop",
                        "usage": {"prompt_tokens": len(prompt_ids), "completion_tokens": produced},
                        "mean_logprob": logprob_sum / produced if produced else 0.0,
                        **listed,
                    }
                )
        except Exception as error:  # one failed request must not stop the engine
            log.exception("vLLM generation failed")
            emit(error_event(error))

    def stats(self) -> dict[str, Any]:
        """Counters and facts; vLLM schedules internally, so live requests count as active."""
        return self.info.stats(
            self.name,
            active=len(self._live),
            waiting=0,
            slots=self.max_batch,
            completed=self.completed,
            tokens_generated=self.tokens_generated,
            tokens_per_second=round(self.rate.per_second(self.tokens_generated), 3),
        )

    def stop(self) -> None:
        """Aborts live requests and stops the loop."""
        for future in list(self._live.values()):
            future.cancel()
        shutdown = getattr(self._engine, "shutdown", None)
        if shutdown is not None:
            self._loop.call_soon_threadsafe(shutdown)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
