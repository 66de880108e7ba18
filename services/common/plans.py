"""The plans every tenant is on, as shipped: document 003's pricing tiers and 004's plans in one table.

The auth service seeds its plan table from :data:`DEFAULT_PLANS` and admins edit it there; the other
services read the table through ``MeteringService.ListPlans`` and fall back on these values while
the auth service cannot be reached.

- **anonymous**: callers without a credential (004 §9.1's unauthenticated column); no token quota.
- **free**: 1,000 tokens a month (003).
- **pro**: 100,000 tokens a month for $19 (003), priority queueing (004 §9.3).
- **enterprise**: no quota, custom pricing, the highest priority.

Every plan is priced per 1,000 tokens at 003's pay-per-use rate, $0.002, unless a model's own price
is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PAY_PER_USE_PER_1K_TOKENS = 0.002


@dataclass(frozen=True)
class Plan:
    """One plan's limits, prices and queue priority (0 in a limit means unlimited)."""

    name: str
    requests_per_hour: int
    monthly_tokens: int
    priority: int
    monthly_fee_usd: float = 0.0
    price_per_1k_tokens: float = PAY_PER_USE_PER_1K_TOKENS
    model_prices: dict[str, float] = field(default_factory=dict)

    def price_of(self, model: str) -> float:
        """The price per 1,000 tokens of a model on this plan."""
        return self.model_prices.get(model, self.price_per_1k_tokens)


DEFAULT_PLANS: dict[str, Plan] = {
    "anonymous": Plan("anonymous", requests_per_hour=100, monthly_tokens=0, priority=0),
    "free": Plan("free", requests_per_hour=100, monthly_tokens=1_000, priority=0),
    "pro": Plan("pro", requests_per_hour=10_000, monthly_tokens=100_000, priority=10, monthly_fee_usd=19.0),
    "enterprise": Plan("enterprise", requests_per_hour=0, monthly_tokens=0, priority=20),
}


def budget_alert_payload(alert: Any) -> dict[str, Any]:
    """A ``BudgetAlert`` message as the data of its webhook and Socket.IO events."""
    return {
        "tenant": alert.tenant,
        "threshold_percent": alert.threshold_percent,
        "limit_usd": alert.limit_usd,
        "spent_usd": round(alert.spent_usd, 6),
        "month": alert.month,
        "exceeded": alert.threshold_percent >= 100,
    }
