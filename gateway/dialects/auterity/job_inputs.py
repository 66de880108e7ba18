"""003's job inputs as canonical job items: one inference request, ``requests``, ``prompts``, or a
document_analysis's documents (parse errors name the field)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from gateway.dialects.auterity.inference import InferenceRequest, _canonical
from meshserve.v1 import common_pb2
from meshserve.v1 import jobs_pb2 as pb
from services.common.errors import InvalidInput


def job_item(body: InferenceRequest) -> pb.JobItem:
    request = _canonical(body)
    return pb.JobItem(model=request.model, prompt=request.prompt, sampling=request.sampling)


def input_items(data: dict[str, Any]) -> list[pb.JobItem]:
    """``input_data`` as items: a ``requests`` list, ``prompts`` sharing ``model_id`` and
    ``parameters``, or one request at its top level."""
    if "requests" in data:
        raw = data["requests"]
        entries = raw if isinstance(raw, list) else [raw]
        return [_parse(e, f"input_data.requests[{i}]") for i, e in enumerate(entries)]
    if "prompts" in data:
        prompts = data["prompts"]
        if not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
            raise InvalidInput(
                "input_data.prompts must be a list of strings", details={"field": "input_data.prompts"}
            )
        shared = {k: v for k, v in data.items() if k != "prompts"}
        return [_parse({**shared, "prompt": p}, f"input_data.prompts[{i}]") for i, p in enumerate(prompts)]
    if "prompt" in data:
        return [_parse(data, "input_data")]
    return []  # the service names the job types it runs and what they need


def document_analysis(data: dict[str, Any]) -> pb.DocumentAnalysis:
    """003's document_analysis input: documents as text (strings, or objects with ``text`` or
    ``content``), the analysis type, and optionally a model and classification labels."""
    raw = data.get("documents", [])
    if not isinstance(raw, list):
        raise InvalidInput("input_data.documents must be a list", details={"field": "input_data.documents"})
    texts = []
    for index, entry in enumerate(raw):
        text = entry.get("text", entry.get("content")) if isinstance(entry, dict) else entry
        if not isinstance(text, str):
            field = f"input_data.documents[{index}]"
            raise InvalidInput(f"{field} must be text, or an object with text", details={"field": field})
        texts.append(text)
    labels = data.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise InvalidInput(
            "input_data.labels must be a list of strings", details={"field": "input_data.labels"}
        )
    model = data.get("model_id", "")
    return pb.DocumentAnalysis(
        documents=texts,
        analysis_type=str(data.get("analysis_type", "")),
        model=common_pb2.ModelRef(name=model if isinstance(model, str) else ""),
        labels=labels,
    )


def _parse(entry: Any, where: str) -> pb.JobItem:
    try:
        return job_item(InferenceRequest.model_validate(entry))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join([where, *(str(p) for p in first["loc"])])
        raise InvalidInput(f"{field}: {first['msg']}", details={"field": field}) from None
