"""Document 003's ``POST /api/ai/advanced/ab-test/create`` and meshserve's routes to read, stop and
promote a test and to send feedback, translated to ExperimentService.

003's body ``{test_name, models, config: {duration_days, traffic_split, success_metric}}`` becomes
one arm per model, weighted by ``traffic_split`` ("50/50", "70/20/10" or a list). Requests for the
first model's name (or ``config.route_model``) are then split across the arms, each caller (the
authenticated user, else OpenAI's ``user`` field) staying on one arm.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictFloat

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.auterity.responses import stamped
from meshserve.v1 import experiments_pb2 as pb
from services.common.errors import InvalidInput

router = dialect_router("auterity", "auterity advanced")


class ABTestConfig(BaseModel):
    """003's ``config`` (plus meshserve's ``route_model``)."""

    model_config = ConfigDict(extra="allow")

    duration_days: StrictFloat = Field(0, ge=0, le=3650, description="How long it runs; 0: until stopped.")
    traffic_split: str | list[StrictFloat] | None = Field(
        None, description='Shares per model: "50/50" or [50, 50].'
    )
    success_metric: str = Field(
        "error_rate", description="error_rate, latency or user_satisfaction (feedback scores)."
    )
    route_model: str = Field("", description="Model name whose traffic is split; default: the first model.")


class ABTestRequest(BaseModel):
    """003's A/B test body."""

    test_name: str = Field(..., min_length=1, max_length=200, description="Name of the test.")
    models: list[str] = Field(
        ..., min_length=2, max_length=10, description="Models (or name:version) to compare."
    )
    config: ABTestConfig = Field(default_factory=ABTestConfig)


class PromoteRequest(BaseModel):
    """Which arm wins; empty: the one the success metric favours."""

    arm: str = Field("", description="Arm name (A, B, …) or its model.")


class FeedbackRequest(BaseModel):
    """A caller's satisfaction with one answer."""

    request_id: str = Field(..., min_length=1, description="The request_id the answer came with.")
    score: StrictFloat = Field(..., description="0 (worst) to 1 (best).")


def split_of(split: str | list[float] | None, count: int) -> list[float]:
    """``traffic_split`` as one weight per model (even when absent)."""
    if split is None or split == "":
        return [1.0] * count
    parts = split.split("/") if isinstance(split, str) else split
    try:
        weights = [float(p) for p in parts]
    except ValueError:
        raise InvalidInput(
            f"traffic_split {split!r} is not numbers such as '50/50'",
            details={"field": "config.traffic_split"},
        ) from None
    if len(weights) != count:
        raise InvalidInput(
            f"traffic_split has {len(weights)} parts for {count} models",
            details={"field": "config.traffic_split", "provided": str(split)},
        )
    return weights


def experiment_body(e: pb.Experiment) -> dict[str, Any]:
    """An experiment as 003 reads it."""
    total = sum(a.weight for a in e.arms) or 1.0
    return {
        "test_id": e.experiment_id,
        "test_name": e.name,
        "status": e.status,
        "route_model": e.route_model,
        "models": [a.model for a in e.arms],
        "arms": [
            {"arm": a.name, "model": a.model, "traffic_share": round(a.weight / total, 6)} for a in e.arms
        ],
        "success_metric": e.success_metric,
        "created_at": e.created_at,
        "ends_at": e.ends_at or None,
        "winner": e.winner or None,
    }


def results_body(reply: pb.GetExperimentResponse) -> dict[str, Any]:
    """An experiment with its per-arm figures and tests."""
    total = sum(a.requests for a in reply.arms) or 1
    arms = [
        {
            "arm": a.arm,
            "model": a.model,
            "requests": a.requests,
            "observed_share": round(a.requests / total, 6),
            "errors": a.errors,
            "error_rate": round(a.errors / a.requests, 6) if a.requests else 0.0,
            "latency_ms": {"p50": a.latency_p50_ms, "p95": a.latency_p95_ms, "p99": a.latency_p99_ms},
            "completion_tokens": a.completion_tokens,
            "feedback": {"count": a.feedback_count, "mean": a.feedback_mean},
            "callers": a.callers,
        }
        for a in reply.arms
    ]
    comparisons = [
        {
            "control": c.control,
            "variant": c.variant,
            "metric": c.metric,
            "test": c.test,
            "p_value": c.p_value,
            "significant": c.significant,
            "better": c.better or None,
        }
        for c in reply.comparisons
    ]
    return {**experiment_body(reply.experiment), "results": arms, "comparisons": comparisons}


@router.post("/api/ai/advanced/ab-test/create", summary="Start an A/B test (document 003)", status_code=201)
async def ab_test_create(body: ABTestRequest, request: Request, clients: Clients) -> JSONResponse:
    """Splits traffic for the first model's name across the models by ``traffic_split``."""
    weights = split_of(body.config.traffic_split, len(body.models))
    reply = await clients.call(
        clients.experiments.CreateExperiment,
        pb.CreateExperimentRequest(
            name=body.test_name,
            route_model=body.config.route_model,
            arms=[pb.Arm(model=m, weight=w) for m, w in zip(body.models, weights, strict=True)],
            success_metric=body.config.success_metric,
            duration_seconds=body.config.duration_days * 86400,
        ),
    )
    return stamped(request, experiment_body(reply.experiment), 201)


@router.get("/api/ai/advanced/ab-test", summary="A/B tests (meshserve)")
async def ab_test_list(request: Request, clients: Clients) -> JSONResponse:
    """Every test, newest first."""
    reply = await clients.call(
        clients.experiments.ListExperiments, pb.ListExperimentsRequest(), idempotent=True
    )
    return stamped(request, {"tests": [experiment_body(e) for e in reply.experiments]})


@router.get(
    "/api/ai/advanced/ab-test/{test_id}",
    summary="An A/B test's per-arm results and significance tests (meshserve)",
)
async def ab_test_results(test_id: str, request: Request, clients: Clients) -> JSONResponse:
    """Per-arm requests, errors, latency, tokens, feedback, and scipy tests of the success metric."""
    reply = await clients.call(
        clients.experiments.GetExperiment, pb.GetExperimentRequest(experiment_id=test_id), idempotent=True
    )
    return stamped(request, results_body(reply))


@router.post("/api/ai/advanced/ab-test/{test_id}/stop", summary="Stop an A/B test (meshserve)")
async def ab_test_stop(test_id: str, request: Request, clients: Clients) -> JSONResponse:
    """Ends the split: the model name serves itself again."""
    reply = await clients.call(
        clients.experiments.StopExperiment, pb.StopExperimentRequest(experiment_id=test_id)
    )
    return stamped(request, experiment_body(reply.experiment))


@router.post("/api/ai/advanced/ab-test/{test_id}/promote", summary="Promote an A/B test's winner (meshserve)")
async def ab_test_promote(
    test_id: str, request: Request, clients: Clients, body: PromoteRequest | None = None
) -> JSONResponse:
    """Ends the split in favour of one arm: the model name then serves it to everyone."""
    arm = (body or PromoteRequest()).arm
    reply = await clients.call(
        clients.experiments.PromoteExperiment, pb.PromoteExperimentRequest(experiment_id=test_id, arm=arm)
    )
    return stamped(request, experiment_body(reply.experiment))


@router.post(
    "/api/ai/advanced/ab-test/feedback", summary="Rate an answer served during an A/B test (meshserve)"
)
async def ab_test_feedback(body: FeedbackRequest, request: Request, clients: Clients) -> JSONResponse:
    """Records a 0-1 satisfaction score for the answer with this request id."""
    reply = await clients.call(
        clients.experiments.RecordFeedback,
        pb.RecordFeedbackRequest(request_id=body.request_id, score=body.score),
    )
    return stamped(request, {"recorded": True, "test_id": reply.experiment_id, "arm": reply.arm})
