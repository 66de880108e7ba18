"""A GGUF model's vocabulary in llama.cpp: prompts to token ids (through the GGUF's own chat
template, as ``Llama.create_chat_completion`` renders it), token ids back to text, and the facts a
remote tokenizer client reads (special tokens, chat template)."""

from __future__ import annotations

from typing import Any

from services.common.errors import InvalidInput
from services.inference.llm.engines.llama_batch import chat_formatter
from services.inference.llm.limits import check_roles


class LlamaVocab:
    """Token ids to and from text through llama.cpp's vocabulary; each token's bytes looked up once."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._chat = chat_formatter(model)
        self._cache: dict[int, bytes] = {}

    def piece(self, token: int) -> bytes:
        """The bytes of one token (empty for control tokens)."""
        found = self._cache.get(token)
        if found is None:
            found = self._cache[token] = self._model.detokenize([token], special=False)
        return found

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        """The text of generated ``ids``; an incomplete UTF-8 tail decodes to U+FFFD until it completes."""
        return b"".join(self.piece(t) for t in ids).decode("utf-8", errors="replace")

    def text_of(self, ids: list[int]) -> str:
        """The text that prompt token ids stand for, control tokens spelled as the vocabulary does."""
        return bytes(self._model.detokenize(ids, special=True)).decode("utf-8", errors="replace")

    def tokenize(self, text: str, add_special_tokens: bool) -> list[int]:
        """A text's token ids, with the model's leading special token (BOS, where it has one) or not;
        special tokens written in the text are read as such."""
        return list(self._model.tokenize(text.encode(), add_bos=add_special_tokens, special=True))

    def spellings(self, ids: list[int]) -> list[str]:
        """Each token as the vocabulary spells it (its entry, not its decoded bytes)."""
        return [str(self._model.token_get_text(token)) for token in ids]

    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        """Prompt token ids, as ``Llama.create_chat_completion`` / ``create_completion`` make them."""
        if messages:
            check_roles(messages)
            if self._chat is None:
                raise InvalidInput(
                    "this model has no chat template; send a plain prompt instead of messages",
                    details={"field": "messages"},
                )
            rendered = self._chat(messages=messages)
            ids = self._model.tokenize(
                rendered.prompt.encode(), add_bos=not rendered.added_special, special=True
            )
        else:
            ids = self.tokenize(prompt, add_special_tokens=True)
        if not ids:
            raise InvalidInput("the prompt holds no tokens", details={"field": "prompt"})
        return list(ids)

    def info(self) -> dict[str, Any]:
        """The special tokens (None where the model has none) and the chat template."""
        metadata = self._model.metadata()
        pad = metadata.get("tokenizer.ggml.padding_token_id")
        return {
            "tokenizer_class": "llama.cpp GGUF vocabulary",
            "eos_token": self._spelling(self._model.token_eos()),
            "bos_token": self._spelling(self._model.token_bos()),
            "pad_token": self._spelling(int(pad)) if pad is not None else None,
            "chat_template": metadata.get("tokenizer.chat_template"),
        }

    def _spelling(self, token: int) -> str | None:
        return str(self._model.token_get_text(token)) if token >= 0 else None
