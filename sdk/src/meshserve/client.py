"""``meshserve.Client`` and ``meshserve.AsyncClient``: the gateway's REST/SSE surface from Python.

Both clients run the same call definitions (:mod:`meshserve.api`) over one transport each
(:mod:`meshserve.transport`); the async client's methods are coroutines and its streams are
async iterators."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from meshserve import api, config
from meshserve.api import Call, StreamCall
from meshserve.closing import Closing
from meshserve.errors import APIError, AuthenticationError, ModelLoadError
from meshserve.model import Model
from meshserve.objects import Obj, wrap
from meshserve.transport import AsyncTransport, Transport
from meshserve.upload import Progress, ProgressFile, is_local_source, registry_format


def _sync(builder: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(builder)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return self._run(builder(*args, **kwargs))

    return method


def _async(builder: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(builder)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await self._run(builder(*args, **kwargs))

    return method


class _ApiMethod:
    """A method of both clients that runs one :mod:`meshserve.api` builder's call, made by the
    client class's ``_method``: a plain method of Client (``_sync``), a coroutine of AsyncClient
    (``_async``)."""

    def __init__(self, builder: Callable[..., Any]) -> None:
        self._builder = builder
        self._methods: dict[type, Callable[..., Any]] = {}

    def __get__(self, client: Any, owner: Any) -> Any:
        method = self._methods.get(owner)
        if method is None:
            method = self._methods[owner] = owner._method(self._builder)
        return method if client is None else method.__get__(client, owner)


def _run_sync(transport: Transport, call: Call | StreamCall) -> Any:
    if isinstance(call, StreamCall):
        return _iterate(transport.stream_events(call.path, call.payload), call.parse)
    if call.raw:
        return call.parse(transport.request(call.method, call.path, **call.kwargs))
    return call.parse(transport.json(call.method, call.path, **call.kwargs))


def _iterate(events: Iterator[Any], parse: Callable[[Any], Any]) -> Iterator[Any]:
    for event in events:
        item = parse(event)
        if item is not None:
            yield item


async def _run_async(transport: AsyncTransport, call: Call | StreamCall) -> Any:
    if isinstance(call, StreamCall):
        return _aiterate(transport.stream_events(call.path, call.payload), call.parse)
    if call.raw:
        return call.parse(await transport.request(call.method, call.path, **call.kwargs))
    return call.parse(await transport.json(call.method, call.path, **call.kwargs))


async def _aiterate(events: AsyncIterator[Any], parse: Callable[[Any], Any]) -> AsyncIterator[Any]:
    async for event in events:
        item = parse(event)
        if item is not None:
            yield item


@contextlib.contextmanager
def _load_call(
    source: str | os.PathLike[str],
    format: str | None,
    name: str | None,
    revision: str | None,
    progress: Progress | None,
    fields: Mapping[str, Any],
) -> Iterator[Call]:
    """The call that makes ``source`` a registered model: upload a file, import a hub id or URL,
    or place an already registered name on workers."""
    text = os.fspath(source)
    if text.startswith("huggingface:") or text.startswith(("http://", "https://")):
        yield api.import_model(text, name or "", revision or "", str(fields.get("task", "")))
        return
    if not is_local_source(text) and format is None:
        yield api.deploy_model(text, **fields)
        return
    path = Path(text)
    fmt = registry_format(path, format)
    if path.is_dir():
        raise ModelLoadError(f"{path}: a directory is not a model file (ONNX or TorchScript)", None)
    if not path.is_file():
        raise ModelLoadError(f"{path}: no such model file", None)
    total = path.stat().st_size
    with path.open("rb") as handle:
        body: Any = ProgressFile(handle, total, progress) if progress else handle
        data = {"name": name or path.stem, "format": fmt, **{k: _form(v) for k, v in fields.items()}}
        files = {"file": (path.name, body, "application/octet-stream")}
        yield Call("POST", "/v1/models", {"files": files, "data": data, "timeout": 3600}, dict)


@contextlib.contextmanager
def _loading(source: str | os.PathLike[str]) -> Iterator[None]:
    """Raises an API failure while loading ``source`` as ModelLoadError naming it."""
    try:
        yield
    except ModelLoadError:
        raise
    except APIError as error:
        raise ModelLoadError.from_api(error, f"{os.fspath(source)}: ") from error


def _form(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return ",".join(str(v) for v in value)
    return str(value)


class _Completions:
    def __init__(self, owner: Any, builder: Callable[..., Any]) -> None:
        self._owner = owner
        self._builder = builder

    def create(self, **params: Any) -> Any:
        """A completion, or (``stream=True``) an iterator of chunks; async clients return awaitables."""
        return self._owner._run(self._builder(**params))


class _Chat:
    def __init__(self, owner: Any) -> None:
        self.completions = _Completions(owner, api.chat_create)


class _Models:
    def __init__(self, owner: Any) -> None:
        self._owner = owner

    def list(self) -> Any:
        """Model objects (id, object, created, owned_by, format, version…)."""
        return self._owner._run(api.models_list())

    def get(self, model_id: str) -> Any:
        """One model (ids may contain slashes)."""
        return self._owner._run(api.models_get(model_id))


class _ClientBase:
    """Constructor arguments, resources and the REST calls shared by both clients."""

    #: The client's transport (:class:`Transport` or :class:`AsyncTransport`), made by each subclass.
    transport: Any

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        endpoint: str | None = None,
        retry_attempts: int | None = None,
        backoff_base: float | None = None,
        refresh_token: str | None = None,
    ) -> None:
        self._settings = {
            "base_url": base_url or endpoint,
            "api_key": api_key,
            "timeout": timeout,
            "max_retries": max_retries if max_retries is not None else retry_attempts,
            "headers": headers,
            "backoff_base": backoff_base,
        }
        self._refresh = refresh_token
        self.chat = _Chat(self)
        self.completions = _Completions(self, api.completion_create)
        self.models = _Models(self)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None, **overrides: Any) -> Any:
        """A client from a JSON file with api_key, endpoint/base_url, timeout, retry_attempts, headers."""
        return cls(**{**config.read_config_file(path), **overrides})

    @property
    def base_url(self) -> str:
        """The gateway's URL."""
        return str(self.transport.base_url)

    def enable_metrics(self, window_seconds: float = 60.0) -> None:
        """Starts recording this client's requests (latency, errors) for get_metrics."""
        self.transport.metrics.window = window_seconds
        self.transport.metrics.enabled = True

    def get_metrics(self) -> Obj:
        """rps, avg_latency_ms, p95_latency_ms, error_rate (%) as this client observed them."""
        return Obj(self.transport.metrics.snapshot())

    def _use_tokens(self, tokens: Mapping[str, Any]) -> Obj:
        access = tokens.get("access_token") or tokens.get("token")
        if access:
            self.transport.api_key = access
            self.transport.client.headers["Authorization"] = f"Bearer {access}"
        self._refresh = tokens.get("refresh_token") or self._refresh
        return wrap(dict(tokens))

    def _refresh_call(self, refresh_token: str | None) -> Call:
        token = refresh_token or self._refresh
        if not token:
            raise AuthenticationError(
                "no refresh token: API keys do not expire; log in (client.login) or pass refresh_token",
                None,
                code="AUTHENTICATION_FAILED",
            )
        return api.refresh_token(token)

    # general
    health = _ApiMethod(api.health)
    info = _ApiMethod(api.info)
    delete_model = _ApiMethod(api.delete_model)
    # document 000
    token_info = _ApiMethod(api.token_info)
    # document 004
    infer = _ApiMethod(api.infer)
    batch_infer = _ApiMethod(api.batch_infer)
    stream_infer = _ApiMethod(api.stream_infer)
    list_models = _ApiMethod(api.list_models)
    get_model_info = _ApiMethod(api.get_model_info)
    deploy_model = _ApiMethod(api.deploy_model)
    unload_model = _ApiMethod(api.unload_model)
    get_system_status = _ApiMethod(api.get_system_status)
    # document 003
    inference = _ApiMethod(api.inference)
    stream = _ApiMethod(api.stream)
    batch = _ApiMethod(api.batch)
    # speech
    speak = _ApiMethod(api.speak)
    transcribe = _ApiMethod(api.transcribe)
    translate = _ApiMethod(api.translate)


class Client(_ClientBase, Closing):
    """A client of one meshserve gateway (thread-safe; reuse it: connections are pooled)."""

    def __init__(self, *args: Any, http_client: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transport = Transport(**self._settings, http_client=http_client)

    def _run(self, call: Call | StreamCall) -> Any:
        return _run_sync(self.transport, call)

    _method = staticmethod(_sync)

    def predict(self, model: Any, inputs: Any, **options: Any) -> Obj:
        """Runs a model (by name or Model): ``{"outputs", "latency_ms", "request_id"}``."""
        return self._run(api.predict(model, inputs, **options))

    def load_model(
        self,
        source: str | os.PathLike[str],
        format: str | None = None,
        *,
        name: str | None = None,
        revision: str | None = None,
        progress: Progress | None = None,
        **fields: Any,
    ) -> Model:
        """Makes a model available: uploads a local ONNX/TorchScript file (``progress(sent, total)``),
        imports ``huggingface:<id>`` or a URL, or places a registered model on workers (extra
        ``fields``: ``input_shape`` for TorchScript; ``backend``/``replicas`` for placement)."""
        with _loading(source), _load_call(source, format, name, revision, progress, fields) as call:
            data = self._run(call)
        return self._model(data)

    def upload_model(
        self, path: str | os.PathLike[str], name: str | None = None, format: str | None = None, **kw: Any
    ) -> Model:
        """Uploads a model file (``POST /v1/models``); see load_model."""
        return self.load_model(path, format, name=name, **kw)

    def get_model(self, model: Any) -> Model:
        """A registered model as a Model object."""
        return Model(self._run(api.get_model(model)), self)

    def optimize(
        self,
        model: Any,
        target: str = "inference",
        level: str = "standard",
        options: dict[str, Any] | None = None,
    ) -> Model:
        """Optimises an ONNX model into a new version (``optimized`` true); returns that version."""
        return Model(self._run(api.optimize(model, target, level, options)), self)

    def login(self, username: str, password: str) -> Obj:
        """Logs in (``POST /auth/login``) and uses the access token from now on."""
        return self._use_tokens(self._run(api.login(username, password)))

    def refresh_token(self, refresh_token: str | None = None) -> Obj:
        """Rotates the tokens (``POST /v1/auth/refresh``) and uses the new access token."""
        return self._use_tokens(self._run(self._refresh_call(refresh_token)))

    def _model(self, data: Mapping[str, Any]) -> Model:
        if "sha256" in data or "size_bytes" in data:  # already the registry's full view
            return Model(data, self)
        return Model({**self._run(api.get_model(data.get("name") or data["id"])), **data}, self)

    def close(self) -> None:
        """Closes pooled connections."""
        self.transport.close()


class AsyncClient(_ClientBase):
    """The asynchronous client: the same methods as coroutines; streams are async iterators."""

    def __init__(self, *args: Any, http_client: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transport = AsyncTransport(**self._settings, http_client=http_client)

    def _run(self, call: Call | StreamCall) -> Any:
        return _run_async(self.transport, call)

    _method = staticmethod(_async)

    async def predict(self, model: Any, inputs: Any, **options: Any) -> Obj:
        """Runs a model: ``{"outputs", "latency_ms", "request_id"}``."""
        return await self._run(api.predict(model, inputs, **options))

    async def load_model(
        self,
        source: str | os.PathLike[str],
        format: str | None = None,
        *,
        name: str | None = None,
        revision: str | None = None,
        progress: Progress | None = None,
        **fields: Any,
    ) -> Model:
        """As Client.load_model."""
        with _loading(source):
            with _load_call(source, format, name, revision, progress, fields) as call:
                data = await self._run(call)
            if "sha256" not in data:
                data = {**await self._run(api.get_model(data.get("name") or data["id"])), **data}
        return Model(data, self)

    async def get_model(self, model: Any) -> Model:
        """A registered model as a Model object."""
        return Model(await self._run(api.get_model(model)), self)

    async def optimize(
        self,
        model: Any,
        target: str = "inference",
        level: str = "standard",
        options: dict[str, Any] | None = None,
    ) -> Model:
        """Optimises an ONNX model into a new version."""
        return Model(await self._run(api.optimize(model, target, level, options)), self)

    async def login(self, username: str, password: str) -> Obj:
        """Logs in and uses the access token from now on."""
        return self._use_tokens(await self._run(api.login(username, password)))

    async def refresh_token(self, refresh_token: str | None = None) -> Obj:
        """Rotates the tokens and uses the new access token."""
        return self._use_tokens(await self._run(self._refresh_call(refresh_token)))

    async def close(self) -> None:
        """Closes pooled connections."""
        await self.transport.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
