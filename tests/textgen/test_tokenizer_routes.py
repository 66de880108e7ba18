"""vLLM's tokenizer routes on the real mesh, read as lm-eval's remote tokenizer reads them: the
model's own token ids of a text (as llama.cpp's ``Llama`` makes them) and of a chat, the text of
ids, the special tokens and chat template; bad input is an OpenAI error naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.procs import Mesh
from tests.textgen.conftest import openai_error_param

pytestmark = pytest.mark.slow

TEXT = "Once upon a time, in a small village,"


def post(mesh: Mesh, path: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = httpx.post(f"{mesh.base_url}{path}", json=body, timeout=300)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def test_tokenize_gives_the_models_own_ids_and_detokenize_reads_them_back(
    llm_mesh: Mesh, llama_reference: Any
) -> None:
    with_bos = post(llm_mesh, "/tokenize", {"prompt": TEXT})
    assert with_bos["tokens"] == llama_reference.tokenize(TEXT.encode(), add_bos=True, special=True)
    assert with_bos["count"] == len(with_bos["tokens"]) and with_bos["max_model_len"] > 0
    bare = post(llm_mesh, "/tokenize", {"model": "default", "prompt": TEXT, "add_special_tokens": False})
    assert bare["tokens"] == llama_reference.tokenize(TEXT.encode(), add_bos=False, special=True)
    assert post(llm_mesh, "/detokenize", {"tokens": bare["tokens"]}) == {"prompt": TEXT}
    assert bare["token_strs"] is None
    spelled = post(
        llm_mesh, "/tokenize", {"prompt": TEXT, "add_special_tokens": False, "return_token_strs": True}
    )
    assert spelled["tokens"] == bare["tokens"]
    assert spelled["token_strs"] == [llama_reference._model.token_get_text(t) for t in bare["tokens"]]
    assert spelled["token_strs"][1] == "Ġupon"  # the vocabulary's own spelling of " upon"


def test_a_chat_tokenizes_as_a_chat_completion_reads_it(llm_mesh: Mesh) -> None:
    messages = [{"role": "user", "content": "Which city is the capital of France?"}]
    chat = post(llm_mesh, "/tokenize", {"messages": messages})
    reply = post(llm_mesh, "/v1/chat/completions", {"messages": messages, "max_tokens": 1, "temperature": 0})
    assert chat["count"] == reply["usage"]["prompt_tokens"]
    assert (
        "Which city is the capital of France?"
        in post(llm_mesh, "/detokenize", {"tokens": chat["tokens"]})["prompt"]
    )


def test_tokenizer_info_is_what_lm_evals_remote_tokenizer_reads(llm_mesh: Mesh, llama_reference: Any) -> None:
    reply = httpx.get(f"{llm_mesh.base_url}/tokenizer_info", timeout=300)
    assert reply.status_code == 200, reply.text
    info = reply.json()
    assert info["model"] == "smollm2-135m-instruct" and info["vocab_size"] == llama_reference.n_vocab()
    assert "{% for message in messages %}" in info["chat_template"]
    # lm-eval takes the EOS token's id as the first id of its text
    eos = post(llm_mesh, "/tokenize", {"prompt": info["eos_token"], "add_special_tokens": False})["tokens"]
    assert eos == [llama_reference.token_eos()]
    # its support check: tokenizer_info names eos_token, and /tokenize answers a list
    assert isinstance(
        post(llm_mesh, "/tokenize", {"prompt": "test", "add_special_tokens": False})["tokens"], list
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/tokenize", {}, "prompt"),
        ("/tokenize", {"prompt": "hi", "messages": [{"role": "user", "content": "hi"}]}, "prompt"),
        ("/tokenize", {"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        (
            "/tokenize",
            {"messages": [{"role": "user", "content": "hi"}], "add_special_tokens": True},
            "add_special_tokens",
        ),
        ("/detokenize", {"tokens": [1, 10**6]}, "tokens"),
        ("/detokenize", {"tokens": [-1]}, "tokens"),
        ("/detokenize", {"tokens": [2**40]}, "tokens"),
        ("/detokenize", {"tokens": []}, "tokens"),
    ],
)
def test_bad_tokenizer_requests_are_openai_errors_naming_the_field(
    llm_mesh: Mesh, path: str, body: dict[str, Any], field: str
) -> None:
    assert openai_error_param(llm_mesh, path, body) == field


def test_an_unknown_model_is_not_found(llm_mesh: Mesh) -> None:
    reply = httpx.get(f"{llm_mesh.base_url}/tokenizer_info", params={"model": "no-such-model"}, timeout=60)
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"]["code"] == "model_not_found"
