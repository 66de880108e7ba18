"""KServe v2 / Open Inference Protocol over REST on the gateway, so ``tritonclient.http`` and
KServe clients use the mesh: health, server and model metadata, model readiness and inference (the
model repository extension is in :mod:`.repository`)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from gateway.clients import MeshClients
from gateway.deps import Clients, Settings
from gateway.dialects import dialect_router
from gateway.dialects.kserve_v2.codec import HEADER, request_tensors, response_body, split_body
from gateway.dialects.kserve_v2.repository import availability
from gateway.json_body import path_parameters
from gateway.model_states import model_states, state_of
from gateway.request_id import request_id_of
from gateway.routers import hot
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as ipb
from meshserve.v1 import registry_pb2 as rpb
from services.common.errors import MeshError, ModelNotFound
from services.inference.tensors import spec_json

router = dialect_router("kserve", "kserve-v2")
PLATFORMS = {
    common.MODEL_FORMAT_ONNX: "onnxruntime_onnx",
    common.MODEL_FORMAT_TORCHSCRIPT: "pytorch_libtorch",
}


@router.get("/v2", summary="Server metadata (KServe v2)")
async def server_metadata(settings: Settings) -> dict[str, Any]:
    """Name, version and protocol extensions."""
    return {
        "name": "meshserve",
        "version": settings.version,
        "extensions": ["binary_tensor_data", "model_repository"],
    }


@router.get("/v2/health/live", summary="Liveness (KServe v2)")
async def live() -> dict[str, Any]:
    """The gateway answers."""
    return {"live": True}


@router.get("/v2/health/ready", summary="Readiness (KServe v2)")
async def ready(request: Request, clients: Clients, settings: Settings) -> JSONResponse:
    """The gateway's readiness probe: 200 when it is not draining, every service in
    ``MESHSERVE_GATEWAY_READY_SERVICES`` reports SERVING over grpc.health.v1 (which a service does
    only once it can serve), and a Triton worker is ready; 503 naming what it waits for."""
    if request.app.state.drain.draining:
        return JSONResponse({"ready": False, "draining": True, "waiting_for": []}, status_code=503)
    checks = await clients.check_all(settings.health_timeout_seconds)
    waiting = [c.name for c in checks if c.name in settings.ready_services and not c.serving]
    if waiting:
        return JSONResponse({"ready": False, "draining": False, "waiting_for": waiting}, status_code=503)
    try:
        reply = await clients.call(
            clients.inference.ListWorkers, ipb.ListWorkersRequest(), idempotent=True, timeout=5
        )
    except MeshError:
        return JSONResponse(
            {"ready": False, "draining": False, "waiting_for": ["inference"]}, status_code=503
        )
    ok = any(w.state == "ready" for w in reply.workers)
    body = {"ready": ok, "draining": False, "waiting_for": [] if ok else ["a Triton worker"]}
    return JSONResponse(body, status_code=200 if ok else 503)


async def _model(clients: Clients, name: str, version: str) -> common.Model:
    reply = await clients.call(
        clients.registry.GetModel,
        rpb.GetModelRequest(ref=common.ModelRef(name=name, version=version)),
        idempotent=True,
    )
    return reply.model


@router.get("/v2/models/{name}", operation_id="kserve_model_metadata", summary="Model metadata (KServe v2)")
@router.get("/v2/models/{name}/versions/{version}", operation_id="kserve_model_version_metadata")
async def model_metadata(name: str, clients: Clients, version: str = "") -> dict[str, Any]:
    """Name, versions, platform and signature."""
    model = await _model(clients, name, version)
    return {
        "name": model.name,
        "versions": [model.version],
        "platform": PLATFORMS.get(model.format, "meshserve"),
        "inputs": spec_json(model.inputs),
        "outputs": spec_json(model.outputs),
    }


@router.get(
    "/v2/models/{name}/ready", operation_id="kserve_model_ready", summary="Model readiness (KServe v2)"
)
@router.get("/v2/models/{name}/versions/{version}/ready", operation_id="kserve_model_version_ready")
async def model_ready(name: str, clients: Clients, version: str = "") -> JSONResponse:
    """200 when the model exists and can be served (loaded, or loaded on its first request); 400
    when it was unloaded or failed to load."""
    model = await _model(clients, name, version)
    ok, _ = availability(model, state_of(await model_states(clients), model))
    return JSONResponse({"name": model.name, "ready": ok}, status_code=200 if ok else 400)


#: The KServe v2 inference request (JSON part; the binary extension appends raw tensor bytes).
INFER_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["inputs"],
                "properties": {
                    "id": {"type": "string"},
                    "parameters": {"type": "object"},
                    "inputs": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name", "shape", "datatype"],
                            "properties": {
                                "name": {"type": "string"},
                                "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                                "datatype": {"type": "string"},
                                "parameters": {"type": "object"},
                                "data": {"type": "array"},
                            },
                        },
                    },
                    "outputs": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                    },
                },
            }
        },
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    },
}


@router.post(
    "/v2/models/{name}/infer",
    operation_id="kserve_infer",
    summary="Inference (KServe v2)",
    openapi_extra={"parameters": path_parameters("name"), "requestBody": INFER_BODY},
)
@router.post(
    "/v2/models/{name}/versions/{version}/infer",
    operation_id="kserve_version_infer",
    openapi_extra={"parameters": path_parameters("name", "version"), "requestBody": INFER_BODY},
)
@hot
async def infer(request: Request) -> Response:
    """Runs the request on a Triton worker; JSON or binary tensor data both ways."""
    name, version = request.path_params["name"], request.path_params.get("version", "")
    clients: MeshClients = request.app.state.clients
    payload, binary = split_body(
        await request.body(), request.headers.get(HEADER), request.headers.get("content-type", "")
    )
    request_id = str(payload.get("id") or request_id_of(request))
    if not name:
        raise ModelNotFound("model name is required")
    outputs = [o.get("name", "") for o in payload.get("outputs") or []]
    reply = await clients.predict(
        ipb.PredictRequest(
            model=common.ModelRef(name=name, version=version),
            inputs=request_tensors(payload, binary),
            output_names=outputs,
            request_id=request_id,
        )
    )
    body, json_size = response_body(
        payload, reply.model_name, reply.model_version, request_id, list(reply.outputs)
    )
    if json_size is None:
        return Response(body, media_type="application/json")
    return Response(
        body,
        media_type="application/octet-stream",
        headers={"Inference-Header-Content-Length": str(json_size)},
    )
