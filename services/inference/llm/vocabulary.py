"""A language model's tokenizer, as its worker holds it: text or chat to token ids, token ids to
text, and the facts a remote tokenizer reads (vLLM's ``/tokenize``, ``/detokenize`` and
``/tokenizer_info``, which lm-eval's ``local-completions`` uses so it needs no tokenizer download).
No transport imports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.inference.llm.service import GenerationService
from services.inference.plugins.base import Message


@dataclass(frozen=True)
class Tokenized:
    """A text's token ids, and the context one sequence of the model may hold."""

    model: str
    tokens: list[int]
    max_model_len: int
    #: Each token as the vocabulary spells it, when asked (None otherwise).
    token_strs: list[str] | None = None


class Vocabulary:
    """Tokenizer calls on the worker that serves a model (placing it on first use)."""

    def __init__(self, service: GenerationService) -> None:
        self.service = service

    async def tokenize(
        self,
        model: str,
        prompt: str,
        messages: Sequence[Message],
        add_special_tokens: bool,
        return_token_strs: bool = False,
    ) -> Tokenized:
        """A prompt's token ids (with or without the model's leading special tokens), or chat
        messages' through the model's chat template, ready for the assistant's turn."""
        chat = [{"role": m.role, "content": m.content} for m in messages]
        body = {
            "op": "tokenize",
            "prompt": prompt,
            "messages": chat,
            "add_special_tokens": add_special_tokens,
            "return_token_strs": return_token_strs,
        }
        spec, _, event = await self.service.ask(model, body, "tokens")
        strs = event.get("token_strs")
        return Tokenized(
            spec.model_id,
            [int(t) for t in event["tokens"]],
            int(event["max_model_len"]),
            [str(s) for s in strs] if strs is not None else None,
        )

    async def detokenize(self, model: str, tokens: Sequence[int]) -> str:
        """The text of token ids (INVALID_INPUT naming ``prompt`` for an id the model lacks)."""
        return await self.service.prompt_text(model, tokens)

    async def info(self, model: str) -> tuple[str, dict[str, Any]]:
        """The model's id, and its tokenizer's special tokens, chat template, context and size."""
        spec, _, event = await self.service.ask(model, {"op": "tokenizer_info"}, "tokenizer_info")
        return spec.model_id, dict(event["tokenizer_info"])
