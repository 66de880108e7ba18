"""The gateway's one exception handler: anything raised becomes a canonical error, rendered in the
envelope of the surface that owns the path, with its HTTP status, ``X-Request-ID`` and, for 429,
``Retry-After``."""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.dialects.ace3.errors import SURFACE as ACE3
from gateway.dialects.auterity.errors import SURFACE as AUTERITY
from gateway.dialects.envelope import ErrorSurface, surface_for
from gateway.dialects.kserve_v2.errors import SURFACE as KSERVE_V2
from gateway.dialects.llama_gpu.errors import SURFACE as LLAMA_GPU
from gateway.dialects.openai.errors import SURFACE as OPENAI
from gateway.dialects.pytorch_if.errors import SURFACE as PYTORCH_IF
from gateway.request_id import request_id_of
from services.common.errors import InternalError, InvalidInput, MeshError, NotFound

log = logging.getLogger("meshserve.gateway")

#: Every dialect's error envelope, by the path prefixes it owns (the longest match wins).
SURFACES: tuple[ErrorSurface, ...] = (ACE3, AUTERITY, KSERVE_V2, LLAMA_GPU, OPENAI)
#: Renders every path no other surface owns (document 001's envelope, whose paths sit at the root).
FALLBACK = PYTORCH_IF


@functools.lru_cache(maxsize=4096)  # called for every request: a path's surface never changes
def surface_name(path: str) -> str:
    """The name of the surface that owns a path (metering records it)."""
    return surface_for(path, SURFACES, FALLBACK).name


def error_response(request: Request, error: MeshError) -> JSONResponse:
    """The rendered error for a request."""
    rid = request_id_of(request)
    body = surface_for(request.url.path, SURFACES, FALLBACK).render(error, rid)
    headers = {"X-Request-ID": rid}
    if error.http_status in (429, 503) and error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    elif error.http_status == 429:
        headers["Retry-After"] = "1"
    return JSONResponse(body, status_code=error.http_status, headers=headers)


def validation_error(exc: RequestValidationError) -> MeshError:
    """A request validation failure as INVALID_INPUT naming the first bad field."""
    errors = exc.errors()
    first: dict[str, Any] = errors[0] if errors else {}
    location = [str(p) for p in first.get("loc", ()) if p != "body"]
    field = ".".join(_up_to_union_member(location))
    if first.get("type") == "json_invalid":
        ctx = first.get("ctx") or {}
        return InvalidInput(
            f"malformed JSON body: {ctx.get('error', 'could not parse')}",
            details={"position": first.get("loc", ["", ""])[-1]},
            suggestion="send a valid JSON document with Content-Type: application/json",
        )
    if first.get("type") == "string_too_long":
        limit = (first.get("ctx") or {}).get("max_length")
        provided = len(first["input"]) if isinstance(first.get("input"), str) else None
        return InvalidInput(
            f"{field or 'input'} exceeds maximum length of {limit} characters",
            details={"field": field, "max_length": limit, "provided_length": provided},
            suggestion="shorten the input",
        )
    message = first.get("msg", "invalid request")
    return InvalidInput(
        f"{field}: {message}" if field else message,
        details={"field": field, "errors": len(errors)},
    )


def is_json_media(content_type: str) -> bool:
    """``application/json`` or ``application/<anything>+json``, parameters aside: the bodies FastAPI
    reads as JSON."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("application/") and (media == "application/json" or media.endswith("+json"))


def unsupported_content_type(content_type: str) -> InvalidInput:
    """A JSON endpoint's refusal of a body sent as something else."""
    return InvalidInput(
        f"unsupported Content-Type {content_type or '(none)'!r}: this endpoint takes application/json",
        details={"field": "Content-Type", "expected": "application/json"},
    )


def http_error(exc: StarletteHTTPException) -> MeshError:
    """Starlette's own HTTP errors (unknown path, wrong method) as canonical errors."""
    if exc.status_code == 404:
        return NotFound("no such endpoint", suggestion="see /docs for the documented endpoints")
    if exc.status_code == 405:
        return InvalidInput("method not allowed on this endpoint", details={"status": 405})
    if exc.status_code == 400:  # FastAPI's: a body it could not read (not UTF-8, a broken multipart)
        return InvalidInput(
            f"malformed request body: {exc.detail}",
            suggestion="send UTF-8 JSON with Content-Type: application/json, or a well-formed multipart form",
        )
    if 400 < exc.status_code < 500:
        return InvalidInput(str(exc.detail), details={"status": exc.status_code})
    return MeshError(str(exc.detail), details={"status": exc.status_code})


#: What protobuf says when a number does not fit the contract's integer field.
OUT_OF_RANGE = re.compile(r"Value out of range: (-?\d+)")


def out_of_range(exc: ValueError) -> MeshError | None:
    """A request number too large for the contract's integer fields (protobuf refuses it when the
    gateway builds the gRPC request) as INVALID_INPUT; None for any other ValueError, a defect."""
    match = OUT_OF_RANGE.fullmatch(str(exc))
    if match is None:
        return None
    return InvalidInput(
        f"number out of range: {match[1]}",
        details={"value": match[1], "max_allowed": 2**31 - 1},
        suggestion="counts and sizes are 32-bit integers (up to 2147483647)",
    )


def _json_route(request: Request) -> bool:
    """Whether the matched route reads a JSON body (not multipart/form)."""
    route = request.scope.get("route")
    body = getattr(getattr(route, "dependant", None), "body_params", [])
    return bool(body) and not any(type(p.field_info).__name__ in ("Form", "File") for p in body)


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers; every error path goes through :func:`error_response`."""

    @app.exception_handler(MeshError)
    async def _mesh(request: Request, exc: MeshError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        if (
            request.method in ("POST", "PUT", "PATCH")
            and not is_json_media(content_type)
            and _json_route(request)
        ):
            return error_response(request, unsupported_content_type(content_type))
        return error_response(request, validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(request, http_error(exc))
        if exc.status_code in (405, 413, 415):
            response.status_code = exc.status_code
        return response

    @app.exception_handler(ValueError)
    async def _value(request: Request, exc: ValueError) -> JSONResponse:
        error = out_of_range(exc)
        if error is None:
            log.exception("unhandled error on %s", request.url.path)
            error = InternalError("internal error")
        return error_response(request, error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return error_response(request, InternalError("internal error"))


#: The names pydantic gives a union's members in an error's location (``prompt.str``).
_SCALAR_MEMBERS = frozenset({"str", "int", "float", "bool", "bytes", "none"})


def _up_to_union_member(location: list[str]) -> list[str]:
    """An error location cut where it names a union's member: the field at fault is the union
    (``prompt``, not ``prompt.list[list[int]].0.0``)."""
    for position, part in enumerate(location):
        if position and (part in _SCALAR_MEMBERS or "[" in part):
            return location[:position]
    return location
