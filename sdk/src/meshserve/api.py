"""Every REST call of the SDK, described once (method, path, body, how to read the answer) so the
sync and async clients share one definition. Builders return :class:`Call` or :class:`StreamCall`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import quote

from meshserve import objects
from meshserve.objects import Obj, wrap


def _identity(value: Any) -> Any:
    return value


@dataclass
class Call:
    """One request and how to turn its JSON answer into the SDK's result."""

    method: str
    path: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    parse: Callable[[Any], Any] = _identity
    raw: bool = False  # the httpx.Response goes to parse, not its JSON


@dataclass
class StreamCall:
    """A POST answered with SSE; ``parse`` maps each event to an item (None drops it)."""

    path: str
    payload: dict[str, Any]
    parse: Callable[[Any], Any] = _identity


def _clean(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _tolist(value: Any) -> Any:
    """numpy arrays (and anything with ``tolist``) as nested lists."""
    return value.tolist() if hasattr(value, "tolist") else value


def model_path(model: Any) -> str:
    """The URL segment of a model given by name or as a Model object."""
    name = model if isinstance(model, str) else model["name"]
    return quote(str(name), safe="/")


# -- OpenAI-style (document 002) ---------------------------------------------------------------------
def chat_create(
    *, model: str = "default", messages: list[dict[str, Any]], stream: bool = False, **params: Any
) -> Call | StreamCall:
    """``POST /v1/chat/completions``: a completion, or a stream of chunks."""
    return _openai_create("/v1/chat/completions", {"model": model, "messages": messages}, stream, params)


def completion_create(
    *, model: str = "default", prompt: Any, stream: bool = False, **params: Any
) -> Call | StreamCall:
    """``POST /v1/completions``: a completion, or a stream of chunks."""
    return _openai_create("/v1/completions", {"model": model, "prompt": prompt}, stream, params)


def _openai_create(
    path: str, body: Mapping[str, Any], stream: bool, params: Mapping[str, Any]
) -> Call | StreamCall:
    """An OpenAI-style create call: the completion, or (``stream``) its chunks."""
    payload = {**body, "stream": stream, **_clean(params)}
    if stream:
        return StreamCall(path, payload, objects.chunk)
    return Call("POST", path, {"json": payload}, wrap)


def _cards(body: dict[str, Any]) -> list[Any]:
    details = {m.get("name"): m for m in body.get("models", [])}
    return [wrap({**details.get(m["id"], {}), **m}, objects.ModelCard) for m in body.get("data", [])]


def models_list() -> Call:
    """``GET /v1/models``: OpenAI model objects with their registry facts (format, version…)."""
    return Call("GET", "/v1/models", parse=_cards)


def models_get(model_id: str) -> Call:
    """``GET /v1/models/{id}`` (ids may contain slashes)."""
    return Call("GET", f"/v1/models/{model_path(model_id)}", parse=lambda b: wrap(b, objects.ModelCard))


def info() -> Call:
    """``GET /info``: version, models, gpu_memory, uptime…"""
    return Call("GET", "/info", parse=lambda b: wrap(b, objects.ServerInfo))


def health() -> Call:
    """``GET /health`` (a 503 names the services that are down)."""
    return Call("GET", "/health", parse=wrap)


# -- document 000 -------------------------------------------------------------------------------------
def predict(model: Any, inputs: Any, **options: Any) -> Call:
    """``POST /v1/models/{id}/predict``: ``{"outputs", "latency_ms", "request_id"}``."""
    body = {"inputs": _tolist(inputs), **({"options": options} if options else {})}
    return Call("POST", f"/v1/models/{model_path(model)}/predict", {"json": body}, wrap)


def optimize(
    model: Any, target: str = "inference", level: str = "standard", options: dict[str, Any] | None = None
) -> Call:
    """``POST /v1/models/{id}/optimize``: a new, optimised version of an ONNX model."""
    body = {"target": target, "level": level, "options": options or {}}
    return Call("POST", f"/v1/models/{model_path(model)}/optimize", {"json": body, "timeout": 600}, dict)


def get_model(model: Any) -> Call:
    """``GET /v1/models/{id}``: the registry's facts about a model."""
    return Call("GET", f"/v1/models/{model_path(model)}", parse=dict)


def delete_model(model: Any) -> Call:
    """``DELETE /v1/models/{id}``: unloads and deletes every version (``{"id", "deleted", "versions"}``)."""
    return Call("DELETE", f"/v1/models/{model_path(model)}", parse=dict)


def token_info() -> Call:
    """``GET /v1/auth/token``: who the credential is, its role, plan and expiry."""
    return Call("GET", "/v1/auth/token", parse=wrap)


def refresh_token(refresh_token: str) -> Call:
    """``POST /v1/auth/refresh``: new access and refresh tokens."""
    return Call("POST", "/v1/auth/refresh", {"json": {"refresh_token": refresh_token}}, wrap)


def login(username: str, password: str) -> Call:
    """``POST /auth/login`` (001): access and refresh tokens."""
    return Call("POST", "/auth/login", {"json": {"username": username, "password": password}}, wrap)


def import_model(source: str, name: str = "", revision: str = "", task: str = "") -> Call:
    """``POST /models/download``: a ``huggingface:`` id or a URL imported by the registry."""
    if source.startswith("huggingface:"):
        body = {"source": "huggingface", "model_id": source.removeprefix("huggingface:")}
    else:
        body = {"source": "url", "model_id": source}
    body.update(_clean({"name": name or None, "revision": revision or None, "task": task or None}))
    return Call("POST", "/models/download", {"json": body, "timeout": 3600}, lambda b: dict(b["model"]))


# -- document 004 -------------------------------------------------------------------------------------
def _infer_result(body: dict[str, Any]) -> Any:
    return wrap({**body["result"], "metadata": body.get("metadata", {})})


def infer(text: str, model: str = "default", **params: Any) -> Call:
    """``POST /api/v1/infer``: generated_text, tokens_generated, inference_time, model_used, backend."""
    body = {"text": text, "model": model, **_clean(params)}
    return Call("POST", "/api/v1/infer", {"json": body}, _infer_result)


def batch_infer(inputs: list[dict[str, Any]], model: str = "default", **params: Any) -> Call:
    """``POST /api/v1/batch_infer``: one result per input (with its ``id``), failures in place."""
    items = [{"id": str(i), **item} if "id" not in item else item for i, item in enumerate(inputs)]
    body = {"inputs": items, "model": model, **_clean(params)}
    return Call("POST", "/api/v1/batch_infer", {"json": body}, lambda b: wrap(b["results"]))


def stream_infer(text: str, model: str = "default", **params: Any) -> StreamCall:
    """``POST /api/v1/stream_infer``: token events (``.text``); the last carries ``final_text``."""
    body = {"text": text, "model": model, "stream": True, **_clean(params)}
    return StreamCall("/api/v1/stream_infer", body, lambda e: wrap(e, objects.StreamToken))


def list_models() -> Call:
    """``GET /api/v1/models``: every model with ``name``, ``loaded``, ``type``, ``size``…"""
    return Call("GET", "/api/v1/models", parse=lambda b: wrap(b["models"]))


def get_model_info(model: str) -> Call:
    """``GET /api/v1/models/{id}``: details and performance."""
    return Call("GET", f"/api/v1/models/{model_path(model)}", parse=lambda b: wrap(b["model"]))


def deploy_model(model: str, backend: str = "auto", replicas: int | None = None, **options: Any) -> Call:
    """``POST /api/v1/models/{id}/load``: places a registered model on workers."""
    body = {"backend": backend, **_clean({"replicas": replicas}), **_clean(options)}
    return Call(
        "POST",
        f"/api/v1/models/{model_path(model)}/load",
        {"json": body, "timeout": 600},
        lambda b: dict(b["model"]),
    )


def unload_model(model: Any) -> Call:
    """``DELETE /api/v1/models/{id}/unload``: frees the workers' memory."""
    return Call("DELETE", f"/api/v1/models/{model_path(model)}/unload", parse=wrap)


def get_system_status() -> Call:
    """``GET /api/v1/system/status``: health, resources, services (``gpu_usage`` readable at the top)."""
    return Call("GET", "/api/v1/system/status", parse=lambda b: wrap(b, objects.SystemStatus))


# -- document 003 -------------------------------------------------------------------------------------
def _auterity_body(
    prompt: str, model: str | None, model_id: str | None, parameters: dict[str, Any]
) -> dict[str, Any]:
    return {"model_id": model_id or model or "default", "prompt": prompt, "parameters": _clean(parameters)}


def inference(
    prompt: str, model: str | None = None, *, model_id: str | None = None, **parameters: Any
) -> Call:
    """``POST /api/ai/inference``: response, tokens_used, processing_time, metadata."""
    body = _auterity_body(prompt, model, model_id, parameters)
    return Call("POST", "/api/ai/inference", {"json": body}, wrap)


def stream(model: str, prompt: str, **parameters: Any) -> StreamCall:
    """``POST /api/ai/inference/stream``: the tokens, as strings."""
    body = _auterity_body(prompt, model, None, parameters)
    return StreamCall(
        "/api/ai/inference/stream", body, lambda e: e.get("token") if e.get("type") == "token" else None
    )


def batch(requests: list[dict[str, Any]], batch_size: int | None = None) -> Call:
    """``POST /api/ai/inference/batch``: one result per request (``success``, ``response`` or ``error``)."""
    items = [
        _auterity_body(r["prompt"], r.get("model"), r.get("model_id"), r.get("parameters", {}))
        for r in requests
    ]
    body = {"requests": items, **({"config": {"batch_size": batch_size}} if batch_size else {})}
    return Call("POST", "/api/ai/inference/batch", {"json": body}, lambda b: wrap(b["results"]))


# -- speech (OpenAI audio) ---------------------------------------------------------------------------
def speak(text: str, voice: str = "alloy", response_format: str = "wav", speed: float = 1.0) -> Call:
    """``POST /v1/audio/speech``: the audio bytes."""
    body = {
        "model": "tts-1",
        "voice": voice,
        "input": text,
        "response_format": response_format,
        "speed": speed,
    }
    return Call("POST", "/v1/audio/speech", {"json": body}, lambda r: r.content, raw=True)


def transcribe(
    audio: bytes | IO[bytes],
    filename: str = "audio.wav",
    response_format: str = "json",
    language: str | None = None,
) -> Call:
    """``POST /v1/audio/transcriptions``: text (json/verbose_json as objects, text/srt/vtt as str);
    ``audio`` is the file's bytes or a binary file object (sent in pieces, rewound on retry)."""
    return _speech_to_text("/v1/audio/transcriptions", audio, filename, response_format, language)


def translate(audio: bytes | IO[bytes], filename: str = "audio.wav", response_format: str = "json") -> Call:
    """``POST /v1/audio/translations``: speech in any language as English text, in the formats of
    :func:`transcribe`."""
    return _speech_to_text("/v1/audio/translations", audio, filename, response_format, None)


def _speech_to_text(
    path: str, audio: bytes | IO[bytes], filename: str, response_format: str, language: str | None
) -> Call:
    data = {"response_format": response_format, "model": "whisper-1", **_clean({"language": language})}
    files = {"file": (filename, audio, "application/octet-stream")}
    as_json = response_format in ("json", "verbose_json")
    return Call(
        "POST",
        path,
        {"files": files, "data": data},
        lambda r: wrap(r.json()) if as_json else r.text,
        raw=True,
    )


Parsed = Obj
