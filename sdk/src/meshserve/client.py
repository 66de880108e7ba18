"""``meshserve.Client``: the gateway's REST/SSE surface from Python (sync)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from meshserve.objects import wrap
from meshserve.transport import DEFAULT_BASE_URL, Transport


class _Completions:
    def __init__(self, transport: Transport, path: str) -> None:
        self._transport = transport
        self._path = path

    def create(self, *, model: str = "default", stream: bool = False, **params: Any) -> Any:
        """A completion (dict), or an iterator of chunk dicts when ``stream=True``."""
        payload = {"model": model, "stream": stream, **{k: v for k, v in params.items() if v is not None}}
        if stream:
            return (wrap(chunk) for chunk in self._transport.stream_events(self._path, payload))
        return wrap(self._transport.json("POST", self._path, json=payload))


class _Chat:
    def __init__(self, transport: Transport) -> None:
        self.completions = _Completions(transport, "/v1/chat/completions")


class _Models:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def list(self) -> list[dict[str, Any]]:
        """OpenAI model objects."""
        return list(wrap(self._transport.json("GET", "/v1/models")["data"]))

    def get(self, model_id: str) -> dict[str, Any]:
        """One model (ids may contain slashes)."""
        return wrap(self._transport.json("GET", f"/v1/models/{model_id}"))


class Client:
    """A client of one meshserve gateway."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 3,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.transport = Transport(base_url, api_key, timeout, max_retries, headers)
        self.chat = _Chat(self.transport)
        self.completions = _Completions(self.transport, "/v1/completions")
        self.models = _Models(self.transport)

    # -- health and info -------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """``GET /health`` (raises ServerError with the body when a service is down)."""
        return dict(self.transport.json("GET", "/health"))

    def info(self) -> dict[str, Any]:
        """``GET /info``: version, models, gpu_memory and more."""
        return dict(self.transport.json("GET", "/info"))

    # -- tensor models ---------------------------------------------------------------
    def upload_model(
        self, path: str | Path, name: str, format: str = "onnx", **fields: str
    ) -> dict[str, Any]:
        """Uploads a model file (document 000 ``POST /v1/models``)."""
        path = Path(path)
        with path.open("rb") as handle:
            files = {"file": (path.name, handle, "application/octet-stream")}
            data = {"name": name, "format": format, **fields}
            return dict(self.transport.json("POST", "/v1/models", files=files, data=data))

    def predict(self, model: str, inputs: Any, **options: Any) -> dict[str, Any]:
        """Document 000 predict: ``{"outputs", "latency_ms", "request_id"}``."""
        body = {"inputs": inputs, **({"options": options} if options else {})}
        return dict(self.transport.json("POST", f"/v1/models/{model}/predict", json=body))

    # -- document 004 ------------------------------------------------------------------
    def infer(self, text: str, model: str = "default", **params: Any) -> dict[str, Any]:
        """``POST /api/v1/infer``."""
        return dict(
            self.transport.json("POST", "/api/v1/infer", json={"text": text, "model": model, **params})
        )

    def stream_infer(self, text: str, model: str = "default", **params: Any) -> Iterator[dict[str, Any]]:
        """``POST /api/v1/stream_infer``: token events until ``is_complete``."""
        return self.transport.stream_events(
            "/api/v1/stream_infer", {"text": text, "model": model, "stream": True, **params}
        )

    def list_models(self) -> dict[str, Any]:
        """``GET /api/v1/models``."""
        return dict(self.transport.json("GET", "/api/v1/models"))

    def get_system_status(self) -> dict[str, Any]:
        """``GET /api/v1/system/status``."""
        return dict(self.transport.json("GET", "/api/v1/system/status"))

    # -- document 003 ------------------------------------------------------------------
    def inference(self, prompt: str, model_id: str = "default", **parameters: Any) -> dict[str, Any]:
        """``POST /api/ai/inference``."""
        body = {"model_id": model_id, "prompt": prompt, "parameters": parameters}
        return dict(self.transport.json("POST", "/api/ai/inference", json=body))

    # -- speech ------------------------------------------------------------------------
    def speak(self, text: str, voice: str = "alloy", response_format: str = "wav") -> bytes:
        """Audio bytes from ``POST /v1/audio/speech``."""
        body = {"model": "tts-1", "voice": voice, "input": text, "response_format": response_format}
        return self.transport.request("POST", "/v1/audio/speech", json=body).content

    def transcribe(self, audio: bytes, filename: str = "audio.wav", response_format: str = "json") -> Any:
        """Text from ``POST /v1/audio/transcriptions``."""
        files = {"file": (filename, audio, "application/octet-stream")}
        response = self.transport.request(
            "POST", "/v1/audio/transcriptions", files=files, data={"response_format": response_format}
        )
        return response.json() if response_format in ("json", "verbose_json") else response.text

    def close(self) -> None:
        """Closes pooled connections."""
        self.transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
