"""The quota and budget check before a generation starts, and what it tells the caller.

A signed-in tenant's request is refused with ``QUOTA_EXCEEDED`` once the tokens it used this month
reach its plan's quota, and with ``BUDGET_EXCEEDED`` once its spending reaches its monthly limit;
both are 429 with ``Retry-After`` set to the month's end. The check reads the auth service's
totals after sending this replica's queued records, so a tenant calling one request after
another sees exact counts: the request that crosses the quota is served whole, and the next one
is refused. Requests already running when the quota is crossed (concurrent ones, or ones on other
replicas) finish too: the overshoot is at most the requests in flight at that moment.

Anonymous callers are metered, but their plan holds no quota. When the auth service cannot be
reached, requests are served (and logged): metering records wait and are sent later.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc

from meshserve.v1 import metering_pb2 as pb
from services.common.clients import call_metadata
from services.common.context import (
    QUOTA_LIMIT_KEY,
    QUOTA_REMAINING_KEY,
    QUOTA_RESET_KEY,
    caller_var,
    tenant_var,
)
from services.common.errors import BudgetExceeded, MeshError, QuotaExceeded
from services.common.messages import record_from
from services.common.metering import Meter

log = logging.getLogger("meshserve.inference.metering")


@dataclass(frozen=True)
class Allowance:
    """A tenant's standing when its request was admitted."""

    quota_tokens: int  # 0: unlimited
    used_tokens: int
    reset_at: int
    budget_usd: float
    spent_usd: float

    @property
    def remaining_tokens(self) -> int:
        """Tokens left this month (before this request)."""
        return max(0, self.quota_tokens - self.used_tokens)

    def metadata(self) -> tuple[tuple[str, str], ...]:
        """The reply metadata the gateway shows as headers (none without a quota)."""
        if not self.quota_tokens:
            return ()
        return (
            (QUOTA_LIMIT_KEY, str(self.quota_tokens)),
            (QUOTA_REMAINING_KEY, str(self.remaining_tokens)),
            (QUOTA_RESET_KEY, str(self.reset_at)),
        )


class AllowanceGate:
    """Admits a signed-in tenant's generation, or refuses it with the canonical error."""

    def __init__(self, stub: Callable[[], Any], meter: Meter) -> None:
        self._stub = stub
        self.meter = meter

    async def admit(self) -> Allowance | None:
        """The caller's allowance, or QuotaExceeded/BudgetExceeded; None for anonymous callers or
        when the auth service is unreachable."""
        tenant = caller_var.get()
        if not tenant:
            return None
        if self.meter.pending(tenant):
            # This replica's records first, so the totals are exact; on the request path, so briefly:
            # an auth service that does not answer at once costs a request a second, not five.
            await self.meter.flush(timeout=1.0)
        try:
            reply = await self._stub().GetAllowance(
                pb.GetAllowanceRequest(tenant=tenant, plan=tenant_var.get().plan),
                timeout=2.0,
                metadata=call_metadata(),
            )
        except (grpc.aio.AioRpcError, MeshError, OSError) as error:
            log.warning("allowance not checked, serving: %s", error)
            return None
        allowance = record_from(Allowance, reply)
        refuse(allowance)
        return allowance


def refuse(allowance: Allowance) -> None:
    """Raises the error an allowance that is used up calls for."""
    retry_after = max(1, math.ceil(allowance.reset_at - time.time()))
    if allowance.quota_tokens and allowance.used_tokens >= allowance.quota_tokens:
        raise QuotaExceeded(
            f"monthly token quota of {allowance.quota_tokens} used up ({allowance.used_tokens} used)",
            details={
                "quota": allowance.quota_tokens,
                "used": allowance.used_tokens,
                "reset": allowance.reset_at,
            },
            suggestion="wait for the month to reset, or move to a larger plan",
            retry_after=retry_after,
        )
    if allowance.budget_usd and allowance.spent_usd >= allowance.budget_usd:
        raise BudgetExceeded(
            f"monthly spending limit of ${allowance.budget_usd:.2f} reached (${allowance.spent_usd:.4f} spent)",
            details={
                "limit_usd": allowance.budget_usd,
                "spent_usd": round(allowance.spent_usd, 6),
                "reset": allowance.reset_at,
            },
            suggestion="raise the limit with PUT /api/analytics/budget, or wait for the month to reset",
            retry_after=retry_after,
        )
