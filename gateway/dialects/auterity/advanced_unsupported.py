"""Document 003 ``POST /api/ai/advanced/finetune/create``: not supported by this deployment yet,
and said so (501 in 003's envelope) rather than answered with a job id that nothing would ever run.

Fine-tuning needs a training service that takes the bundled model (a quantized GGUF file the engine
de-quantizes for inference only) through LoRA and back to a servable version; it does not exist
yet (the SDK's DistributedTrainer trains torch modules). The body is still checked, so a malformed
request gets the 400 it deserves first.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.common.errors import NotImplementedYet

router = APIRouter(tags=["auterity advanced"])


class FinetuneRequest(BaseModel):
    """003's fine-tune body."""

    base_model: str = Field(..., description="Model to fine-tune.")
    training_data: list[dict[str, Any]] = Field(..., min_length=1, description="prompt/completion pairs.")
    config: dict[str, Any] = Field(default_factory=dict, description="epochs, learning_rate, batch_size.")


@router.post(
    "/api/ai/advanced/finetune/create",
    operation_id="auterity_finetune_create",
    summary="Fine-tuning (not supported here: 501)",
    status_code=501,
)
async def finetune_create(body: FinetuneRequest) -> None:
    """Refuses: no training runs in this mesh."""
    raise NotImplementedYet(
        "fine-tuning is not supported by this deployment: the mesh serves models, it does not train them",
        details={"base_model": body.base_model, "training_examples": len(body.training_data)},
        suggestion="fine-tune elsewhere, export GGUF, and register it (POST /v1/models); it is then servable",
    )
