"""Document 003 ``POST /api/ai/advanced/finetune/create`` and ``/api/ai/advanced/ab-test/create``:
not supported by this deployment, and said so (501 in 003's envelope) rather than answered with a
job or test id that nothing would ever run.

Fine-tuning would need a training loop and dataset handling in the mesh (the bundled model is a
quantized GGUF file that the engine de-quantizes for inference only); an A/B test would need a
traffic splitter in the generation path and outcome tracking for ``success_metric``. Neither
exists. The bodies are still checked, so a malformed request gets the 400 it deserves first.
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


class ABTestRequest(BaseModel):
    """003's A/B test body."""

    test_name: str = Field(..., description="Name of the test.")
    models: list[str] = Field(..., min_length=2, description="Models to compare.")
    config: dict[str, Any] = Field(default_factory=dict, description="duration_days, traffic_split, ...")


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


@router.post(
    "/api/ai/advanced/ab-test/create",
    operation_id="auterity_ab_test_create",
    summary="A/B tests (not supported here: 501)",
    status_code=501,
)
async def ab_test_create(body: ABTestRequest) -> None:
    """Refuses: no traffic splitting or outcome tracking exists."""
    raise NotImplementedYet(
        "A/B tests are not supported by this deployment: there is no traffic splitter or outcome tracking",
        details={"test_name": body.test_name, "models": list(body.models)},
        suggestion="compare models with POST /api/ai/advanced/benchmark/run (measured latency and throughput)",
    )
