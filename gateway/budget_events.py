"""The Socket.IO ``budget_events`` channel: each budget threshold a tenant's spending crosses.

The auth service decides each crossing once; every gateway replica asks it each period for the
crossings since its last look and tells its own subscribers. A crossing goes to the tenant's own
sessions and to admins' (with authentication off, to every subscriber, as every route is open).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from meshserve.v1 import metering_pb2 as pb
from services.common.errors import MeshError
from services.common.plans import budget_alert_payload

if TYPE_CHECKING:
    from gateway.events import EventHub

CHANNEL = "budget_events"
EVENT = "budget_alert"


def may_see(session: dict[str, Any], tenant: str) -> bool:
    """Whether a Socket.IO session may hear a tenant's alert."""
    if session.get("role") == "":  # no principal: authentication is off
        return True
    return session.get("user_id") == tenant or session.get("role") == "admin"


class BudgetRelay:
    """Relays new crossings each period while anyone listens."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self._since: float | None = None

    async def tick(self) -> None:
        """One look at the crossings since the last."""
        hub = self.hub
        if not hub.listening(CHANNEL) or hub.clients is None:
            self._since = None  # a new listener hears what crosses from then on
            return
        if self._since is None:
            self._since = time.time()
            return
        try:
            reply = await hub.clients.call(
                hub.clients.metering.ListBudgetAlerts,
                pb.ListBudgetAlertsRequest(since=self._since),
                timeout=2.0,
            )
        except MeshError:
            return
        from gateway.events import envelope

        listeners = [sid for sid, _ in hub.sio.manager.get_participants("/", CHANNEL)]
        for alert in reply.alerts:
            self._since = max(self._since, alert.crossed_at)
            body = envelope(EVENT, budget_alert_payload(alert))
            for sid in listeners:
                if may_see(hub.sessions.get(sid, {}), alert.tenant):
                    await hub.sio.emit(EVENT, body, to=sid)
