"""The transformers engine: a Hugging Face causal LM in torch, batched with one left-padded KV cache.

The fallback for model formats llama.cpp and vLLM do not take (a Hugging Face directory on a
machine without CUDA or vLLM). The batch keeps one KV cache, left-padded so every row ends at the
same column; an attention mask hides the padding and explicit position ids keep each row's rotary
positions its own, so a row's logits match what it would get alone.
"""

from __future__ import annotations

from typing import Any

import torch

from services.inference.llm.engine_info import EngineInfo
from services.inference.llm.engines.torch_sampler import Sampler
from services.inference.llm.engines.transformers_loader import (
    LoadedModel,
    encode_prompt,
    hf_tokenize,
    hf_tokenizer_info,
)
from services.inference.llm.scheduler import ContinuousBatcher
from services.inference.llm.sequence import Sequence


class TransformersEngine(ContinuousBatcher):
    """A loaded transformers model and the scheduler thread that serves its sequences."""

    def __init__(
        self,
        loaded: LoadedModel,
        max_batch: int = 16,
        name: str = "llm",
        reason: str = "",
        context_tokens: int = 0,
    ) -> None:
        context = min(loaded.context_length, context_tokens) if context_tokens > 0 else loaded.context_length
        vocab = int(loaded.model.get_output_embeddings().weight.shape[0])
        dtype = str(next(loaded.model.parameters()).dtype).removeprefix("torch.")
        quantization = {"float32": "F32", "float16": "F16", "bfloat16": "BF16"}.get(dtype, dtype)
        info = EngineInfo(
            "transformers", loaded.device, context, reason, torch.get_num_threads(), vocab, quantization
        )
        super().__init__(info, loaded.tokenizer, loaded.eos_token_ids, max_batch, name)
        self.loaded = loaded
        self._cache: Any = None
        self._mask: torch.Tensor | None = None
        self._start()

    def encode(self, prompt: str, messages: list[dict[str, str]]) -> list[int]:
        """Prompt token ids: chat messages through the model's chat template, else the raw prompt."""
        return encode_prompt(self.loaded.tokenizer, prompt, messages)

    def tokenize(self, text: str, add_special_tokens: bool) -> list[int]:
        """A text's token ids, with the tokenizer's special tokens or not."""
        return hf_tokenize(self.loaded.tokenizer, text, add_special_tokens)

    def token_strs(self, ids: list[int]) -> list[str]:
        """Each token as the vocabulary spells it."""
        return [str(t) for t in self.loaded.tokenizer.convert_ids_to_tokens(ids)]

    def tokenizer_info(self) -> dict[str, Any]:
        """Special tokens and chat template."""
        return hf_tokenizer_info(self.loaded.tokenizer)

    def embed(self, texts: list[str | list[int]]) -> tuple[list[list[float]], int]:
        """Each text's final hidden states, mean-pooled (each text alone); and the tokens read."""
        vectors, tokens = [], 0
        with torch.inference_mode():
            for text in texts:
                if isinstance(text, list):
                    ids = torch.tensor([text], dtype=torch.long, device=self.loaded.device)
                else:
                    ids = self.loaded.tokenizer(text, return_tensors="pt").input_ids.to(self.loaded.device)
                out = self.loaded.model(input_ids=ids, output_hidden_states=True)
                vectors.append(out.hidden_states[-1][0].float().mean(dim=0).cpu().tolist())
                tokens += int(ids.shape[1])
        return vectors, tokens

    def _step(self, admitted: list[Sequence]) -> None:
        with torch.inference_mode():
            for seq in admitted:
                seq.state = Sampler(seq.params)
                self._prefill(seq)
            self._drop_finished()
            if self._running:
                self._decode()

    def _prefill(self, seq: Sequence) -> None:
        device = self.loaded.device
        ids = torch.tensor([seq.prompt_ids], dtype=torch.long, device=device)
        out = self.loaded.model(input_ids=ids, use_cache=True)
        seq.cache_len = len(seq.prompt_ids)
        self._join_cache(seq, out.past_key_values)
        if seq.params.prompt_logprobs:
            rows = out.logits[0].float().cpu().numpy()
            self._score_prompt(seq, lambda position: rows[position])
        self._pick(seq, out.logits[0, -1, :])

    def _pick(self, seq: Sequence, logits: torch.Tensor) -> None:
        """Samples ``seq``'s next token from its row of logits (a float32 copy on the CPU, which a
        grammar's mask is written into)."""
        row = logits.float().cpu().numpy().copy()
        self._choose(seq, row, lambda: seq.state.next_token(torch.from_numpy(row)))

    def _grammar_tokenizer(self) -> Any:
        from llguidance.hf import from_tokenizer

        return from_tokenizer(self.loaded.tokenizer, n_vocab=self.vocab_size)

    def _join_cache(self, seq: Sequence, cache: Any) -> None:
        """Adds a prefilled sequence's cache as a new row, left-padding whichever side is shorter."""
        from transformers import DynamicCache

        device = self.loaded.device
        new_len = seq.cache_len
        if self._cache is None:
            self._cache = cache
            self._mask = torch.ones((1, new_len), dtype=torch.long, device=device)
            self._join(seq)
            return
        assert self._mask is not None
        old_len = self._mask.shape[1]
        width = max(old_len, new_len)
        layers = []
        for old, new in zip(self._cache.layers, cache.layers, strict=True):
            keys = torch.cat([_left_pad(old.keys, width), _left_pad(new.keys, width)], dim=0)
            values = torch.cat([_left_pad(old.values, width), _left_pad(new.values, width)], dim=0)
            layers.append((keys, values))
        self._cache = DynamicCache(ddp_cache_data=layers)
        old_mask = torch.nn.functional.pad(self._mask, (width - old_len, 0))
        new_mask = torch.zeros((1, width), dtype=torch.long, device=device)
        new_mask[:, width - new_len :] = 1
        self._mask = torch.cat([old_mask, new_mask], dim=0)
        self._join(seq)

    def _decode(self) -> None:
        assert self._mask is not None
        device = self.loaded.device
        rows = len(self._running)
        input_ids = torch.tensor([[s.last_token] for s in self._running], dtype=torch.long, device=device)
        positions = torch.tensor([[s.cache_len] for s in self._running], dtype=torch.long, device=device)
        self._mask = torch.cat([self._mask, torch.ones((rows, 1), dtype=torch.long, device=device)], dim=1)
        out = self.loaded.model(
            input_ids=input_ids,
            attention_mask=self._mask,
            position_ids=positions,
            past_key_values=self._cache,
            use_cache=True,
        )
        self._cache = out.past_key_values
        logits = out.logits[:, -1, :]
        for row, seq in enumerate(self._running):
            seq.cache_len += 1
            if not seq.finish_reason:  # a finished row keeps its place in the batch until released
                self._pick(seq, logits[row])

    def _release(self, gone: list[Sequence]) -> None:
        """Drops the rows of ``gone`` from the cache and trims padding no row needs."""
        keep = [i for i, s in enumerate(self._running) if s not in gone]
        if not keep:
            self._cache, self._mask = None, None
            return
        index = torch.tensor(keep, dtype=torch.long, device=self.loaded.device)
        self._cache.batch_select_indices(index)
        assert self._mask is not None
        mask = self._mask[index]
        first = int(mask.any(dim=0).long().argmax().item())
        if first:
            for layer in self._cache.layers:
                layer.keys = layer.keys[:, :, first:, :]
                layer.values = layer.values[:, :, first:, :]
            mask = mask[:, first:]
        self._mask = mask


def _left_pad(tensor: torch.Tensor, width: int) -> torch.Tensor:
    """Pads the sequence axis (-2) of a [batch, heads, seq, dim] tensor on the left with zeros."""
    missing = width - tensor.shape[-2]
    return torch.nn.functional.pad(tensor, (0, 0, missing, 0)) if missing else tensor
