"""OpenAI ``POST /v1/embeddings``: vectors from a language model (``InferenceService.Embed``)."""

from __future__ import annotations

import base64
from typing import Any, Literal

import numpy as np
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.openai.shapes import TextsOrIds, items_of
from gateway.textgen import token_ids
from meshserve.v1 import common_pb2
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput

router = dialect_router("openai", "openai")

#: Embedding a batch of long texts on a CPU takes a while.
EMBED_TIMEOUT_SECONDS = 300.0


class EmbeddingRequest(BaseModel):
    """Body of ``POST /v1/embeddings``."""

    model_config = ConfigDict(extra="allow")

    model: str = Field("default", description="A language model; 'default' picks the bundled one.")
    input: str | list[str] | list[StrictInt] | list[list[StrictInt]] = Field(
        ..., description="A text, a list of texts, or token ids (a list of them, or a list of such lists)."
    )
    encoding_format: Literal["float", "base64"] = Field(
        "float", description="Floats, or base64 of float32 bytes."
    )
    dimensions: StrictInt | None = Field(
        None, description="Keep the first this many dimensions (normalized again)."
    )


def inputs_of(value: TextsOrIds) -> dict[str, Any]:
    """``EmbedRequest``'s inputs: ``inputs`` for texts, ``token_inputs`` for token ids (one list of
    them is one input)."""
    items = items_of(value)
    lists = [item for item in items if isinstance(item, list)]
    if not lists:
        return {"inputs": items}
    one = len(items) == 1 and isinstance(value, list) and isinstance(value[0], int)  # a flat list of ids
    return {
        "token_inputs": [
            pb.TokenIds(ids=token_ids(ids, "input" if one else f"input[{i}]")) for i, ids in enumerate(lists)
        ]
    }


def encoded(values: list[float], encoding_format: str) -> list[float] | str:
    """A vector as OpenAI sends it: floats, or base64 of its little-endian float32 bytes."""
    if encoding_format == "base64":
        return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode()
    return list(values)


@router.post("/v1/embeddings", summary="Embeddings")
async def create_embedding(body: EmbeddingRequest, clients: Clients) -> Any:
    """One unit vector per input text, in the order given."""
    if body.dimensions is not None and body.dimensions < 1:
        raise InvalidInput(
            "dimensions must be at least 1",
            details={"field": "dimensions", "min": 1, "provided": body.dimensions},
        )
    reply = await clients.call(
        clients.inference.Embed,
        pb.EmbedRequest(
            model=common_pb2.ModelRef(name=body.model),
            **inputs_of(body.input),
            dimensions=body.dimensions or 0,
        ),
        timeout=EMBED_TIMEOUT_SECONDS,
        idempotent=True,
    )
    return JSONResponse(
        {
            "object": "list",
            "data": [
                {
                    "object": "embedding",
                    "index": i,
                    "embedding": encoded(list(e.values), body.encoding_format),
                }
                for i, e in enumerate(reply.embeddings)
            ],
            "model": reply.model_name,
            "usage": {"prompt_tokens": reply.usage.prompt_tokens, "total_tokens": reply.usage.prompt_tokens},
        }
    )
