"""Budget alerts: a tenant's spending crossed one of its thresholds this month.

The auth service decides each crossing once (per tenant, month and threshold, across replicas)
and returns it to the replica whose records crossed it; that replica tells the webhooks subscribed
to ``budget.threshold_crossed`` (signed, retried, as every webhook is). The gateway's Socket.IO
``budget_events`` channel hears the same crossings from the auth service.
"""

from __future__ import annotations

import logging

from meshserve.v1 import metering_pb2 as pb
from services.common.metering import OnAlert
from services.common.plans import budget_alert_payload
from services.inference.jobs.webhooks import WebhookHub

log = logging.getLogger("meshserve.inference.metering")

EVENT = "budget.threshold_crossed"


def budget_alert_announcer(webhooks: WebhookHub) -> OnAlert:
    """Sends each crossing to the subscribed webhooks (and logs it)."""

    def announce(alert: pb.BudgetAlert) -> None:
        log.info("budget threshold crossed", extra=budget_alert_payload(alert))
        if webhooks.subscribed(EVENT):
            webhooks.emit(EVENT, budget_alert_payload(alert))

    return announce
