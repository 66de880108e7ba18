"""vLLM's tokenizer routes beside the OpenAI API: ``POST /tokenize``, ``POST /detokenize`` and
``GET /tokenizer_info``, over ``InferenceService.Tokenize``, ``Detokenize`` and ``GetTokenizerInfo``.

They are what a client that counts or builds token ids reads (lm-eval's ``local-completions``
finds them and needs no tokenizer download); request, response and error shapes are vLLM's.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.envelope import fields_named
from gateway.dialects.openai.chat import ChatMessage, message_of
from gateway.textgen import token_ids
from meshserve.v1 import common_pb2
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput

router = dialect_router("vllm", "openai")


class TokenizeRequest(BaseModel):
    """Body of ``POST /tokenize``: a ``prompt``, or chat ``messages`` (vLLM's two forms)."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("default", description="A language model; 'default' picks the bundled one.")
    prompt: str | None = Field(None, description="The text to tokenize.")
    messages: list[ChatMessage] | None = Field(
        None, description="Chat messages, through the model's chat template, ready for the reply."
    )
    add_special_tokens: StrictBool | None = Field(
        None, description="Add the model's leading special tokens (default: yes for a prompt)."
    )
    return_token_strs: StrictBool = Field(
        False, description="Also answer each token as the vocabulary spells it."
    )


class DetokenizeRequest(BaseModel):
    """Body of ``POST /detokenize``."""

    model: str = Field("default", description="A language model; 'default' picks the bundled one.")
    tokens: list[StrictInt] = Field(..., description="Token ids of the model's vocabulary.")


@router.post("/tokenize", summary="Tokenize (vLLM)")
async def tokenize(body: TokenizeRequest, clients: Clients) -> dict[str, Any]:
    """The token ids of a text, or of chat messages as the model would read them."""
    if (body.prompt is None) == (body.messages is None):
        raise InvalidInput("send a prompt or messages, one of them", details={"field": "prompt"})
    if body.messages is not None and body.add_special_tokens:
        raise InvalidInput(
            "the chat template writes the special tokens of messages itself",
            details={"field": "add_special_tokens"},
        )
    request = pb.TokenizeRequest(
        model=common_pb2.ModelRef(name=body.model),
        prompt=body.prompt or "",
        messages=[message_of(i, m) for i, m in enumerate(body.messages or [])],
        add_special_tokens=body.add_special_tokens is not False,
        return_token_strs=body.return_token_strs,
    )
    reply = await clients.call(clients.inference.Tokenize, request, idempotent=True)
    tokens = list(reply.tokens)
    strs = list(reply.token_strs) if body.return_token_strs else None
    return {"count": len(tokens), "max_model_len": reply.max_model_len, "tokens": tokens, "token_strs": strs}


@router.post("/detokenize", summary="Detokenize (vLLM)")
async def detokenize(body: DetokenizeRequest, clients: Clients) -> dict[str, Any]:
    """The text that token ids stand for."""
    ids = token_ids(body.tokens, "tokens")
    request = pb.DetokenizeRequest(model=common_pb2.ModelRef(name=body.model), tokens=ids)
    with fields_named({"prompt": "tokens"}):
        reply = await clients.call(clients.inference.Detokenize, request, idempotent=True)
    return {"prompt": reply.prompt}


@router.get("/tokenizer_info", summary="Tokenizer facts (vLLM)")
async def tokenizer_info(
    clients: Clients, model: str = Query("default", description="A language model.")
) -> dict[str, Any]:
    """Special tokens (null where the model has none), chat template, context and vocabulary size."""
    reply = await clients.call(
        clients.inference.GetTokenizerInfo,
        pb.GetTokenizerInfoRequest(model=common_pb2.ModelRef(name=model)),
        idempotent=True,
    )
    texts = ("tokenizer_class", "eos_token", "bos_token", "pad_token", "chat_template")
    return {
        "model": reply.model_name,
        **{key: getattr(reply, key) or None for key in texts},
        "model_max_length": reply.max_model_len,
        "vocab_size": reply.vocab_size,
    }
