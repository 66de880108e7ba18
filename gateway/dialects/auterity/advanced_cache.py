"""Document 003 ``POST /api/ai/advanced/cache/prefetch``: the inference service generates each
prompt now (deterministically: temperature 0 unless a seed is given) and keeps the result for
``config.ttl`` seconds. A later ``/api/ai/inference`` request with the same model, prompt and
parameters (``temperature: 0``; the same ``max_tokens``) is then answered from that cache with
``"cached": true``; its hits feed ``cache_hit_rate`` in ``/api/ai/advanced/monitoring/realtime``.

The cache lives in the inference service (the data plane), not here: every surface's generation
passes through it, and gateway replicas share it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictFloat

from gateway.deps import Clients
from gateway.dialects import dialect_router
from gateway.dialects.auterity.inference import Parameters
from gateway.dialects.auterity.responses import stamped
from meshserve.v1 import common_pb2 as common
from meshserve.v1 import inference_pb2 as pb
from services.common.messages import as_dict

router = dialect_router("auterity_cache", "auterity advanced")

#: Prefetching generates every prompt in full: minutes on CPU for long budgets.
TIMEOUT_SECONDS = 900.0


class PrefetchConfig(BaseModel):
    """How long entries stay."""

    ttl: StrictFloat = Field(3600, gt=0, le=7 * 24 * 3600, description="Seconds an entry stays.")
    priority: str = Field("normal", description="Accepted for compatibility; prefetches run in order.")


class PrefetchRequest(BaseModel):
    """003's prefetch body (``parameters`` is a meshserve addition; it must match later requests)."""

    model_id: str = Field("default", description="Language model.")
    prompts: list[str] = Field(..., min_length=1, max_length=64, description="Prompts to complete now.")
    config: PrefetchConfig = Field(default_factory=PrefetchConfig)
    parameters: Parameters = Field(default_factory=Parameters)


def cache_body(stats: pb.GetCacheStatsResponse) -> dict[str, Any]:
    """The cache's counters."""
    return as_dict(stats, hit_rate=round(stats.hit_rate, 6) if stats.HasField("hit_rate") else None)


def _entry_body(entry: pb.PrefetchEntry) -> dict[str, Any]:
    if entry.error_code:
        status = "failed"
    else:
        status = "already_cached" if entry.already_cached else "stored"
    return {
        "prompt": entry.prompt,
        "status": status,
        "completion_tokens": entry.completion_tokens,
        "processing_time": entry.seconds,
        "expires_at": datetime.fromtimestamp(entry.expires_at, UTC).isoformat().replace("+00:00", "Z")
        if entry.expires_at
        else None,
        "error": {"code": entry.error_code, "message": entry.error_message} if entry.error_code else None,
    }


@router.post(
    "/api/ai/advanced/cache/prefetch", summary="Generate and cache responses to prompts (document 003)"
)
async def prefetch(body: PrefetchRequest, request: Request, clients: Clients) -> JSONResponse:
    """Generates and stores each prompt; says what is cached until when."""
    sampling = body.parameters.request(body.model_id).sampling
    reply = await clients.call(
        clients.inference.PrefetchCache,
        pb.PrefetchCacheRequest(
            model=common.ModelRef(name=body.model_id),
            prompts=body.prompts,
            sampling=sampling,
            ttl_seconds=body.config.ttl,
        ),
        timeout=TIMEOUT_SECONDS,
    )
    entries = [_entry_body(e) for e in reply.entries]
    return stamped(
        request,
        {
            "status": "completed",
            "model_id": reply.model_name,
            "prefetched": sum(1 for e in entries if e["status"] != "failed"),
            "failed": sum(1 for e in entries if e["status"] == "failed"),
            "entries": entries,
            "config": {"ttl": body.config.ttl, "priority": body.config.priority},
            "cache": cache_body(reply.stats),
            "match": "later /api/ai/inference requests with this model_id, prompt and the same parameters"
            " (temperature 0 unless a seed is given) are answered from the cache",
        },
    )
