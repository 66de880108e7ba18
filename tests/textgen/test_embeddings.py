"""``POST /v1/embeddings`` and ``InferenceService.Embed``: vectors from the bundled language model,
through the official ``openai`` client and gRPC."""

from __future__ import annotations

import base64
from typing import Any

import grpc
import httpx
import numpy as np
import openai
import pytest

from meshserve.v1 import common_pb2
from meshserve.v1 import inference_pb2 as pb
from meshserve.v1 import inference_pb2_grpc as pb_grpc
from tests.procs import Mesh

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(llm_mesh: Mesh) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llm_mesh.base_url}/v1", api_key="unused", max_retries=0, timeout=300)


def vectors(client: openai.OpenAI, texts: list[str], **extra: Any) -> tuple[np.ndarray, Any]:
    reply = client.embeddings.create(model="default", input=texts, **extra)
    assert [d.index for d in reply.data] == list(range(len(texts)))
    return np.array([d.embedding for d in reply.data]), reply


def test_the_same_texts_in_any_order_give_the_same_vectors(client: openai.OpenAI) -> None:
    ab, reply = vectors(client, ["a", "b"])
    ba, _ = vectors(client, ["b", "a"])
    assert np.array_equal(ab, ba[::-1])
    assert not np.array_equal(ab[0], ab[1])
    assert ab.shape == (2, 576)  # SmolLM2-135M's hidden size
    assert np.allclose(np.linalg.norm(ab, axis=1), 1.0, atol=1e-5)
    assert reply.model == "smollm2-135m-instruct" and reply.usage.prompt_tokens >= 2
    assert reply.usage.total_tokens == reply.usage.prompt_tokens


def test_a_single_string_dimensions_and_base64(client: openai.OpenAI) -> None:
    full, _ = vectors(client, ["The cat sat on the mat."])
    cut, _ = vectors(client, ["The cat sat on the mat."], dimensions=64)
    assert cut.shape == (1, 64) and np.isclose(np.linalg.norm(cut[0]), 1.0, atol=1e-5)
    assert np.allclose(cut[0], full[0][:64] / np.linalg.norm(full[0][:64]), atol=1e-6)
    raw = client.embeddings.with_raw_response.create(
        model="default", input="The cat sat on the mat.", encoding_format="base64"
    )
    encoded = raw.http_response.json()["data"][0]["embedding"]
    decoded = np.frombuffer(base64.b64decode(encoded), dtype="<f4")
    assert np.array_equal(decoded, full[0].astype(np.float32))


def test_grpc_embed(llm_mesh: Mesh) -> None:
    with grpc.insecure_channel(llm_mesh.address("inference")) as channel:
        stub = pb_grpc.InferenceServiceStub(channel)
        reply = stub.Embed(
            pb.EmbedRequest(model=common_pb2.ModelRef(name="default"), inputs=["hello", "world"]), timeout=120
        )
    assert len(reply.embeddings) == 2 and len(reply.embeddings[0].values) == 576
    assert reply.model_name == "smollm2-135m-instruct" and reply.usage.prompt_tokens >= 2


def test_token_ids_embed_as_the_text_they_stand_for(client: openai.OpenAI, llm_mesh: Mesh) -> None:
    """OpenAI's token-array inputs: the model's own ids of a text give the text's vector."""
    texts = ["a cat sat on the mat", "the stock market fell"]
    ids = [
        httpx.post(f"{llm_mesh.base_url}/tokenize", json={"prompt": t}, timeout=60).json()["tokens"]
        for t in texts
    ]
    as_text = client.embeddings.create(model="default", input=texts)
    as_ids = client.embeddings.create(model="default", input=ids)
    one = client.embeddings.create(model="default", input=ids[1])
    for got, want in zip(as_ids.data, as_text.data, strict=True):
        assert np.allclose(got.embedding, want.embedding, atol=1e-5)
    assert np.allclose(one.data[0].embedding, as_text.data[1].embedding, atol=1e-5)
    assert as_ids.usage.prompt_tokens == sum(len(i) for i in ids) == as_text.usage.prompt_tokens


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input": ""}, "input[0]"),
        ({"input": []}, "input"),
        ({"input": [[1, 2], [1, 10**6]]}, "input[1]"),  # the vocabulary has 49152 tokens
        ({"input": [-1]}, "input"),
        ({"input": [[]]}, "input[0]"),
        ({"input": ["a", 1]}, "input"),
        ({"input": "x", "dimensions": 0}, "dimensions"),
        ({"input": "x", "dimensions": 100000}, "dimensions"),
    ],
)
def test_bad_embedding_requests_are_openai_errors(llm_mesh: Mesh, body: dict[str, Any], field: str) -> None:
    reply = httpx.post(f"{llm_mesh.base_url}/v1/embeddings", json=body, timeout=120)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"]["param"] == field
