"""JSON bodies for the hot path's plain routes (:func:`gateway.routers.hot`): read and validated as
FastAPI's own body parameter reads them, and refused the same way, so a surface answers alike
whichever route served it.

A FastAPI route resolves its dependencies, validates and serializes through its own machinery; for
a tensor prediction of document 000 that was about 0.17 ms of the gateway's CPU, in process, where
the KServe v2 plain route's whole request took 0.22 ms. Its endpoint takes the ``Request`` and
calls :func:`json_body`; :func:`body_schema` and :func:`path_parameters` keep its OpenAPI entry what
FastAPI would have written.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException

from gateway.errors import is_json_media, unsupported_content_type

ModelT = TypeVar("ModelT", bound=BaseModel)


async def json_body(request: Request, model: type[ModelT], *, as_triton: bool = False) -> ModelT:
    """The request's JSON body as ``model``. A content type other than JSON is refused at once; an
    empty, malformed or invalid body raises FastAPI's ``RequestValidationError`` (not UTF-8: its
    400 ``HTTPException``), which the gateway's handlers render in the surface's envelope.

    ``as_triton`` reads a body as Triton does, for the clients written against it: one sent without
    a Content-Type is JSON (``tritonclient`` sends none), and an empty one is ``model``'s defaults.
    """
    content_type = request.headers.get("content-type", "")
    if not is_json_media(content_type) and not (as_triton and not content_type):
        raise unsupported_content_type(content_type)
    raw = await request.body()
    if not raw and as_triton:
        return model()
    if not raw:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        problem = {"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error"}
        raise RequestValidationError([{**problem, "input": {}, "ctx": {"error": error.msg}}]) from None
    except ValueError:  # not UTF-8
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from None
    try:
        return model.model_validate(data, from_attributes=True)  # as FastAPI validates a body
    except ValidationError as error:
        raise RequestValidationError(
            [{**found, "loc": ("body", *found["loc"])} for found in error.errors(include_url=False)]
        ) from None


def body_schema(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a JSON body of ``model``."""
    return {"required": required, "content": {"application/json": {"schema": model.model_json_schema()}}}


def path_parameters(*names: str) -> list[dict[str, Any]]:
    """The OpenAPI ``parameters`` of required string path parameters."""
    return [
        {
            "name": n,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "title": n.replace("_", " ").title()},
        }
        for n in names
    ]
