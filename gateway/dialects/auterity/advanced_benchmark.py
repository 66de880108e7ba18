"""Document 003 ``POST /api/ai/advanced/benchmark/run``: the inference service runs each test case
on each model (greedy, a few tokens, sequentially) and this renders what it measured.

Latency (median, min, max, time to first token) and throughput (tokens/s) are measured. Accuracy
and cost are not: there are no reference answers to score against, and every model is self-hosted
with no per-token price; both come back null with the reason, never an invented figure. A model
that cannot run (such as ``gpt-4`` here) is reported with its error code; the others still run.

A run has a time budget (``MESHSERVE_INFERENCE_BENCHMARK_BUDGET_SECONDS``, or a shorter
``time_budget_seconds`` in the body): when it is spent the run stops and reports what it measured,
with ``truncated`` true and the reason in ``budget_exceeded``; the models cut or never started say
``DEADLINE_EXCEEDED``.
"""

from __future__ import annotations

import statistics
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictFloat, StrictInt

from gateway.deps import Clients
from gateway.dialects.auterity.responses import stamped
from meshserve.v1 import inference_pb2 as pb
from services.common.errors import InvalidInput

router = APIRouter(tags=["auterity advanced"])

MEASURED = ("latency", "throughput")
NOT_MEASURED = {
    "accuracy": "not measured: there are no reference answers or scorer for these test cases",
    "cost": "not measured: every model is self-hosted, so there is no per-token price to report",
}
#: Generous: a benchmark of a few models on CPU takes minutes (the service's budget ends it sooner).
TIMEOUT_SECONDS = 900.0
#: Seconds of the call's deadline beyond a requested budget: what the service keeps back for the
#: reply (services/inference/advanced/benchmark.py, REPLY_MARGIN_SECONDS).
REPLY_SECONDS = 2.0
#: The error code of a model the time budget cut.
CUT = "DEADLINE_EXCEEDED"


class CustomCase(BaseModel):
    """A test case with its own prompt (a meshserve addition to 003's case names)."""

    name: str = Field("", description="Case name.")
    prompt: str = Field(..., min_length=1, description="Prompt to run.")


class BenchmarkRequest(BaseModel):
    """003's benchmark body, with the run size as meshserve additions."""

    models: list[str] = Field(..., min_length=1, description="Models to measure.")
    test_cases: list[str | CustomCase] = Field(
        default_factory=list, description="Built-in case names, or {name, prompt}; empty runs them all."
    )
    metrics: list[str] = Field(
        default_factory=lambda: ["latency", "throughput", "accuracy", "cost"], description="What to report."
    )
    max_tokens: StrictInt | None = Field(None, description="Tokens per run (default 16, at most 128).")
    repetitions: StrictInt | None = Field(None, description="Runs per case (default 3, at most 10).")
    time_budget_seconds: StrictFloat | None = Field(
        None,
        gt=0,
        le=TIMEOUT_SECONDS - REPLY_SECONDS,
        description="Longest the run may measure, in seconds (the service's budget caps it); then it "
        "stops and reports what it measured, marked truncated.",
    )


def _case_body(case: pb.BenchmarkCaseResult, metrics: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "latency" in metrics:
        values["latency"] = {
            "p50_ms": case.latency_p50_ms,
            "min_ms": case.latency_min_ms,
            "max_ms": case.latency_max_ms,
            "first_token_p50_ms": case.first_token_p50_ms,
        }
    if "throughput" in metrics:
        values["throughput"] = {
            "tokens_per_second": case.tokens_per_second,
            "completion_tokens": case.completion_tokens,
        }
    for name in NOT_MEASURED:
        if name in metrics:
            values[name] = None
    return {
        "name": case.name,
        "prompt": case.prompt,
        "runs": case.runs,
        "metrics": values,
        "sample_output": case.sample_output,
    }


def _model_body(model: pb.BenchmarkModelResult, metrics: list[str]) -> dict[str, Any]:
    cut = model.error_code == CUT
    failed = bool(model.error_code) and not cut
    cases = [_case_body(c, metrics) for c in model.cases]
    summary: dict[str, Any] | None = None
    if model.cases and not failed:
        tokens = sum(c.completion_tokens for c in model.cases)
        summary = {
            "latency_p50_ms": round(statistics.median(c.latency_p50_ms for c in model.cases), 3),
            "tokens_per_second": round(statistics.median(c.tokens_per_second for c in model.cases), 3),
            "completion_tokens": tokens,
        }
    return {
        "model_id": model.model_name,
        "resolved_model": model.resolved_model or None,
        "status": "failed" if failed else "truncated" if cut else "completed",
        "error": {"code": model.error_code, "message": model.error_message} if model.error_code else None,
        "device": model.device or None,
        "test_cases": cases,
        "summary": summary,
    }


@router.post(
    "/api/ai/advanced/benchmark/run",
    operation_id="auterity_benchmark_run",
    summary="Measure models on test cases (document 003)",
)
async def run_benchmark(body: BenchmarkRequest, request: Request, clients: Clients) -> JSONResponse:
    """Runs the benchmark to its end and reports the measurements."""
    metrics = [m.strip().lower() for m in body.metrics] or list(MEASURED)
    unknown = [m for m in metrics if m not in (*MEASURED, *NOT_MEASURED)]
    if unknown:
        raise InvalidInput(
            f"unknown metrics: {', '.join(unknown)}",
            details={"field": "metrics", "allowed": list((*MEASURED, *NOT_MEASURED))},
        )
    cases = [
        pb.BenchmarkCase(name=c) if isinstance(c, str) else pb.BenchmarkCase(name=c.name, prompt=c.prompt)
        for c in body.test_cases
    ]
    reply = await clients.call(
        clients.inference.RunBenchmark,
        pb.RunBenchmarkRequest(
            models=body.models,
            cases=cases,
            max_tokens=body.max_tokens or 0,
            repetitions=body.repetitions or 0,
        ),
        # The service measures until the call's deadline less a margin, or its own budget if sooner.
        timeout=body.time_budget_seconds + REPLY_SECONDS if body.time_budget_seconds else TIMEOUT_SECONDS,
    )
    results = [_model_body(m, metrics) for m in reply.models]
    cut = next((m for m in reply.models if m.error_code == CUT), None)
    return stamped(
        request,
        {
            "status": "truncated" if cut else "completed",
            "truncated": cut is not None,
            "budget_exceeded": {"reason": cut.error_message} if cut else None,
            "results": results,
            "models_measured": sum(1 for r in results if r["status"] == "completed"),
            "models_failed": sum(1 for r in results if r["status"] == "failed"),
            "models_truncated": sum(1 for r in results if r["status"] == "truncated"),
            "metrics": metrics,
            "not_measured": {k: v for k, v in NOT_MEASURED.items() if k in metrics},
            "config": {
                "max_tokens": reply.max_tokens,
                "repetitions": reply.repetitions,
                "sampling": "greedy (temperature 0)",
                "runs": "sequential, below plugins and the response cache",
            },
            "processing_time": reply.seconds,
        },
    )
