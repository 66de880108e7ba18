"""The JSON protocol between the inference service and the generation model on a Triton worker.

Request (``REQUEST``, one BYTES element)::

    {"op": "generate", "id": str, "prompt": str, "messages": [{"role", "content"}],
     "prompt_ids": [int],                                # optional: the prompt as token ids
     "sampling": SamplingParams.to_dict(), "max_tokens_explicit": bool,
     "priority": int, "aging_seconds": float}           # both optional (0)
    {"op": "detokenize", "ids": [int]}
    {"op": "tokenize", "prompt": str, "messages": [...], "add_special_tokens": bool,
     "return_token_strs": bool}
    {"op": "tokenizer_info"}
    {"op": "stats"}
    {"op": "embed", "inputs": [str | [int]]}           # texts, or token ids
    {"op": "cancel", "id": str}

Events (``EVENT``, one per reply): ``{"text", "index"}`` while generating; the last adds
``"finish_reason"``, ``"usage"`` and ``"queue_seconds"`` (the wait for a batch slot); a failure is
``{"error": {"code", "message", "details"}}``; a sequence dropped on cancel ends with
``{"cancelled": true, "usage": {...}}``. A ``cancel`` asks for that end without cancelling the Triton
stream, so the caller still hears what the sequence cost (it is answered ``{"cancelling": id}`` at
once). The other requests are answered by one reply each: ``{"stats": {...}}``;
``{"detokenized": str}`` (the ids' text); ``{"tokens": [int], "max_model_len": int}`` (and
``"token_strs"`` when asked);
``{"tokenizer_info": {...}}`` (special tokens, chat template, context, vocabulary size);
``{"embeddings": [[float]], "usage": {"prompt_tokens"}}``. This module holds the worker side
(:class:`WorkerModel`), free of Triton imports so it is tested directly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from services.common.errors import InvalidInput, MeshError
from services.inference.llm.engines import Engine, load_engine
from services.inference.llm.limits import check_token_ids, checked_prompt_ids, error_event
from services.inference.llm.outbox import Outbox, Send
from services.inference.llm.sampling import SamplingParams

log = logging.getLogger("meshserve.llm")


class WorkerModel:
    """One loaded language model answering protocol requests."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.outbox = Outbox()
        # Embeddings are computed off Triton's thread, one request at a time, beside generation.
        self._embedder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-embed")

    @classmethod
    def from_parameters(cls, name: str, params: dict[str, str]) -> WorkerModel:
        """Loads the model a Triton config's parameters name (``source``, ``device``, ``max_batch``,
        ``engine``, ``threads``, ``adaptive_threads``, ``context_tokens``, ``cpu_turns``: see :func:`~services.inference.llm.model_dir.config_pbtxt`)."""
        engine = load_engine(
            Path(params["source"]),
            name=name,
            device=params.get("device", "auto"),
            max_batch=int(params.get("max_batch", "16")),
            engine=params.get("engine", "auto"),
            threads=int(params.get("threads", "0")),
            context_tokens=int(params.get("context_tokens", "0")),
            adaptive_threads=params.get("adaptive_threads", "1") == "1",
            cpu_turns=params.get("cpu_turns", "1") == "1",
        )
        return cls(engine)

    def handle(self, raw: bytes | str, send: Send, is_cancelled: Callable[[], bool]) -> None:
        """Starts one request; its events go through ``send`` (from the outbox's thread)."""
        try:
            body = json.loads(raw)
            op = body.get("op", "generate")
            if op == "embed":
                self._embedder.submit(self._embed, body["inputs"], send)
                return
            if op != "generate":
                send(self._answer(op, body), True)
                return
            if "prompt_ids" in body:
                prompt_ids = checked_prompt_ids(body["prompt_ids"], self.engine.vocab_size)
            else:
                prompt_ids = self.engine.encode(body.get("prompt", ""), body.get("messages") or [])
            params = SamplingParams.from_dict(body["sampling"])
            check_token_ids(params, self.engine.vocab_size)
            explicit = bool(body.get("max_tokens_explicit"))
            params = replace(
                params, max_tokens=self.engine.check_context(prompt_ids, params.max_tokens, explicit)
            )
            grammar = self.engine.grammar(params)
            priority = int(body.get("priority", 0))
            aging_seconds = float(body.get("aging_seconds", 0.0))
        except (MeshError, ValueError, KeyError, TypeError) as error:
            if not isinstance(error, MeshError):
                error = InvalidInput(f"malformed generation request: {error}")
            send(error_event(error), True)
            return
        self.engine.submit(
            str(body.get("id", "")),
            prompt_ids,
            params,
            lambda event: self.outbox.post(send, event),
            is_cancelled,
            grammar,
            priority=priority,
            aging_seconds=aging_seconds,
        )

    def _answer(self, op: str, body: dict[str, Any]) -> dict[str, Any]:
        """The one reply of a request answered at once (not a generation, not an embedding)."""
        engine = self.engine
        if op == "stats":
            return {"stats": engine.stats()}
        if op == "cancel":
            engine.cancel(str(body.get("id", "")))
            return {"cancelling": str(body.get("id", ""))}
        if op == "detokenize":
            return {"detokenized": engine.text_of(checked_prompt_ids(body.get("ids"), engine.vocab_size))}
        if op == "tokenize":
            messages = body.get("messages") or []
            if messages:
                tokens = engine.encode("", messages)
            else:
                tokens = engine.tokenize(
                    str(body.get("prompt", "")), bool(body.get("add_special_tokens", True))
                )
            spelled = {"token_strs": engine.token_strs(tokens)} if body.get("return_token_strs") else {}
            return {"tokens": tokens, "max_model_len": engine.context_length, **spelled}
        if op == "tokenizer_info":
            info = {**engine.tokenizer_info(), "max_model_len": engine.context_length}
            return {"tokenizer_info": {**info, "vocab_size": engine.vocab_size}}
        raise InvalidInput(f"unknown operation {op!r}", details={"field": "op"})

    def _embed(self, inputs: list[Any], send: Send) -> None:
        try:
            vectors, tokens = self.engine.embed(
                [
                    item
                    if isinstance(item, str)
                    else checked_prompt_ids(item, self.engine.vocab_size, f"input[{i}]")
                    for i, item in enumerate(inputs)
                ]
            )
        except Exception as error:
            send(error_event(error), True)
            return
        send({"embeddings": vectors, "usage": {"prompt_tokens": tokens}}, True)

    def close(self) -> None:
        """Stops the engine, then sends what it left queued."""
        self._embedder.shutdown(wait=True, cancel_futures=True)
        self.engine.stop()
        self.outbox.close()
