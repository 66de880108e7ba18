"""Document 003's ``POST /api/ai/advanced/finetune/create``, and meshserve's routes to follow and
cancel a run, translated to FineTuneService.

``training_data`` is 003's list of ``{"prompt", "completion"}`` pairs, or chat examples
``{"messages": [{"role", "content"}, …]}`` (the last assistant message is learned), or the same
objects as JSONL text. The run trains in the inference service's own process for it and registers
the result as a new version of ``output_name`` (default ``<base_model>-ft``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.auterity.responses import stamped
from meshserve.v1 import finetune_pb2 as pb
from services.common.errors import InvalidInput
from services.common.messages import message_from

router = dialect_router("auterity", "auterity advanced")


class FinetuneConfig(BaseModel):
    """003's ``config`` (plus meshserve's LoRA and split settings)."""

    model_config = ConfigDict(extra="forbid")

    epochs: StrictInt = Field(3, ge=1, le=50, description="Passes over the data.")
    learning_rate: StrictFloat = Field(1e-4, gt=0, le=0.1, description="Optimizer learning rate.")
    batch_size: StrictInt = Field(8, ge=1, le=64, description="Examples per step.")
    validation_split: StrictFloat = Field(0.1, ge=0, le=0.5, description="Share held out for the eval loss.")
    lora_rank: StrictInt = Field(8, ge=1, le=64, description="LoRA rank.")
    max_steps: StrictInt = Field(
        0, ge=0, le=100_000, description="Stop after this many steps; 0: epochs decide."
    )
    seed: StrictInt = Field(
        0, ge=0, le=2**31 - 1, description="Seed of the split, the order and the adapter."
    )
    callback_url: str | None = Field(None, description="POSTed when the run ends.")


class FinetuneRequest(BaseModel):
    """003's fine-tune body."""

    base_model: str = Field(..., min_length=1, description="Registered language model to start from.")
    training_data: list[dict[str, Any]] | str = Field(
        ..., description='[{"prompt", "completion"}] or [{"messages": [...]}], or the same as JSONL text.'
    )
    config: FinetuneConfig = Field(default_factory=FinetuneConfig)
    output_name: str = Field(
        "", max_length=120, description="Name of the new model; default <base_model>-ft."
    )


def example_of(entry: Any, field: str) -> pb.TrainingExample:
    """One 003 example as turns."""
    if isinstance(entry, dict) and isinstance(entry.get("messages"), list):
        turns = []
        for index, message in enumerate(entry["messages"]):
            if not (isinstance(message, dict) and isinstance(message.get("content"), str)):
                raise InvalidInput(
                    f"{field}.messages[{index}] needs role and content", details={"field": field}
                )
            turns.append(pb.ExampleTurn(role=str(message.get("role", "")), content=message["content"]))
        return pb.TrainingExample(turns=turns)
    if (
        isinstance(entry, dict)
        and isinstance(entry.get("prompt"), str)
        and isinstance(entry.get("completion"), str)
    ):
        return pb.TrainingExample(
            turns=[
                pb.ExampleTurn(role="user", content=entry["prompt"]),
                pb.ExampleTurn(role="assistant", content=entry["completion"]),
            ]
        )
    raise InvalidInput(
        f"{field} is neither a prompt/completion pair nor a messages list",
        details={"field": field},
        suggestion='use {"prompt": "...", "completion": "..."} or {"messages": [...]}',
    )


def examples_of(data: list[dict[str, Any]] | str) -> list[pb.TrainingExample]:
    """``training_data`` as examples (JSONL text is split by line)."""
    if isinstance(data, str):
        entries: list[Any] = []
        for number, line in enumerate(data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except ValueError:
                raise InvalidInput(
                    f"training_data line {number} is not JSON",
                    details={"field": f"training_data[line {number}]"},
                ) from None
        data = entries
    return [example_of(entry, f"training_data[{index}]") for index, entry in enumerate(data)]


def run_body(run: pb.FineTune) -> dict[str, Any]:
    """A run as 003 reads it."""
    optional = {
        name: getattr(run, name) if run.HasField(name) else None
        for name in ("loss", "eval_loss_before", "eval_loss", "eta_seconds")
    }
    return {
        "fine_tune_id": run.fine_tune_id,
        "job_id": run.fine_tune_id,
        "status": run.status,
        "base_model": run.base_model,
        "output_model": {"name": run.output_name, "version": run.output_version or None},
        "progress": {
            "step": run.step,
            "total_steps": run.total_steps,
            "percent": round(100.0 * run.step / run.total_steps, 2) if run.total_steps else 0.0,
            "loss": optional["loss"],
            "eval_loss": optional["eval_loss"],
            "eval_loss_before": optional["eval_loss_before"],
            "eta_seconds": optional["eta_seconds"],
        },
        "dataset": {
            "sha256": run.dataset_sha256,
            "train_examples": run.train_examples,
            "eval_examples": run.eval_examples,
        },
        "config": json.loads(run.config_json or "{}"),
        "error": run.error or None,
        "created_at": run.created_at,
        "finished_at": run.finished_at or None,
        "status_url": f"/api/ai/advanced/finetune/{run.fine_tune_id}",
    }


@router.post(
    "/api/ai/advanced/finetune/create", summary="Fine-tune a language model (document 003)", status_code=202
)
async def finetune_create(body: FinetuneRequest, request: Request, clients: Clients) -> JSONResponse:
    """Starts a LoRA fine-tune of a registered language model; follow it at ``status_url``."""
    config = body.config
    reply = await clients.call(
        clients.finetune.CreateFineTune,
        pb.CreateFineTuneRequest(
            base_model=body.base_model,
            examples=examples_of(body.training_data),
            config=message_from(pb.FineTuneConfig, config, callback_url=config.callback_url or ""),
            output_name=body.output_name,
        ),
    )
    return stamped(request, run_body(reply.fine_tune), 202)


@router.get("/api/ai/advanced/finetune/{fine_tune_id}", summary="A fine-tune's progress (meshserve)")
async def finetune_status(fine_tune_id: str, request: Request, clients: Clients) -> JSONResponse:
    """Step, loss, eval loss and ETA; the registered model once it succeeded."""
    reply = await clients.call(
        clients.finetune.GetFineTune, pb.GetFineTuneRequest(fine_tune_id=fine_tune_id), idempotent=True
    )
    return stamped(request, run_body(reply.fine_tune))


@router.post("/api/ai/advanced/finetune/{fine_tune_id}/cancel", summary="Cancel a fine-tune (meshserve)")
async def finetune_cancel(fine_tune_id: str, request: Request, clients: Clients) -> JSONResponse:
    """Stops the run; nothing is registered."""
    reply = await clients.call(
        clients.finetune.CancelFineTune, pb.CancelFineTuneRequest(fine_tune_id=fine_tune_id)
    )
    return stamped(request, run_body(reply.fine_tune))
