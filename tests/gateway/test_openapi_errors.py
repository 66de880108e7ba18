"""The OpenAPI document gives every operation its error responses in the envelope of the surface
that owns its path, and each envelope's schema is what the surface really renders (in process)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from gateway.app import create_app
from gateway.errors import FALLBACK, SURFACES
from gateway.openapi_errors import ERROR_STATUSES, METHODS, schema_name
from services.common.errors import BackendUnavailable, InvalidInput, MeshError, ModelNotFound


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, item[method])
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


@pytest.mark.parametrize(
    ("path", "surface"),
    [
        ("/v1/chat/completions", "ErrorOpenai"),
        ("/v1/models/{model_id}/predict", "ErrorAce3"),
        ("/v2/models/{name}/infer", "ErrorKserveV2"),
        ("/api/ai/inference", "ErrorAuterity"),
        ("/api/v1/infer", "ErrorLlamaGpu"),
        ("/predict", "ErrorPytorchIf"),
    ],
)
def test_an_operation_documents_its_errors_in_its_surfaces_envelope(
    document: dict[str, Any], path: str, surface: str
) -> None:
    operation = document["paths"][path]["post"]
    for status in ("400", "404", "429", "503"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{surface}"}, (path, status)


def test_every_operation_documents_every_error_status_and_no_422(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert len(operations) > 100
    for path, method, operation in operations:
        responses = operation["responses"]
        assert "422" not in responses, (method, path)
        assert set(ERROR_STATUSES) <= set(responses), (method, path)
    assert "HTTPValidationError" not in str(document)


@pytest.mark.parametrize(
    "error",
    [
        InvalidInput("bad", details={"field": "max_tokens", "max_allowed": 4096}, suggestion="smaller"),
        ModelNotFound("no such model", details={"model": "x"}),
        BackendUnavailable("down", retry_after=1),
        MeshError("internal error"),
    ],
    ids=lambda e: e.code,
)
def test_each_surface_renders_what_its_schema_says(error: MeshError) -> None:
    for surface in (*SURFACES, FALLBACK):
        body = surface.render(error, "req-1")
        jsonschema.validate(body, surface.schema)
        assert schema_name(surface.name).startswith("Error")


def test_a_schema_refuses_another_surfaces_envelope() -> None:
    error = InvalidInput("bad")
    by_name = {s.name: s for s in (*SURFACES, FALLBACK)}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(by_name["kserve-v2"].render(error, "r"), by_name["llama-gpu"].schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(by_name["openai"].render(error, "r"), by_name["pytorch-if"].schema)


def test_every_streaming_answer_and_audio_type_is_documented(document: dict[str, Any]) -> None:
    """Found by fuzzing: /api/v1/infer with ``stream: true`` answers SSE; /v1/audio/speech answers
    each codec's own content type."""
    from services.speech.codecs import FORMATS

    for path in ("/api/v1/infer", "/api/v1/stream_infer", "/v1/chat/completions", "/v1/completions"):
        assert "text/event-stream" in document["paths"][path]["post"]["responses"]["200"]["content"], path
    speech = document["paths"]["/v1/audio/speech"]["post"]["responses"]["200"]["content"]
    assert {f.media_type for f in FORMATS.values()} <= set(speech)
