"""Webhooks: registrations, HMAC-signed JSON deliveries with retries, and job callbacks.

Every delivery is one POST of ``{"id", "event", "created_at", "data"}`` with headers
``X-Webhook-Event``, ``X-Webhook-Id`` (the same on every retry of one event, for de-duplication),
``X-Webhook-Timestamp`` and, when there is a secret, ``X-Webhook-Signature: sha256=<hex>``: the
HMAC-SHA256 of the exact body bytes under the secret. A delivery succeeds on any 2xx answer;
anything else (or no answer within the timeout) is retried after 1, 2, 4 … times the backoff base.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from services.common.destinations import Destinations
from services.common.errors import InvalidInput, NotFound
from services.inference.jobs.records import iso
from services.inference.jobs.settings import JobSettings
from services.inference.jobs.store import SqlJobStore, WebhookRecord

log = logging.getLogger("meshserve.jobs.webhooks")

#: Events a webhook may subscribe to.
EVENTS: tuple[str, ...] = (
    "inference.completed",
    "batch.finished",
    "job.completed",
    "job.failed",
    "job.cancelled",
    "model.updated",
    "finetune.progress",
    "finetune.completed",
    "finetune.failed",
    "budget.threshold_crossed",
)

SIGNATURE_HEADER = "X-Webhook-Signature"
MAX_BACKOFF_SECONDS = 60.0


def validate_url(url: str, field: str, destinations: Destinations | None = None) -> str:
    """An absolute http(s) URL with a host that ``destinations`` may allow, or InvalidInput naming
    the field. (A name that only a network entry can allow is checked again at each delivery.)"""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            f"{field} must be an absolute http or https URL",
            details={"field": field, "provided": url[:200]},
            suggestion="use a URL such as https://your-app.example/webhook",
        )
    if destinations is not None and destinations.allows_name(parts.hostname) is False:
        raise InvalidInput(
            f"{field}: deliveries to {parts.hostname!r} are not allowed on this mesh",
            details={"field": field, "host": parts.hostname, "allowed_hosts": destinations.describe()},
            suggestion="use a host the operator allows (MESHSERVE_INFERENCE_JOBS_WEBHOOK_ALLOWED_HOSTS)",
        )
    return url.strip()


def sign(secret: str, body: bytes) -> str:
    """The signature header value of a body: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Outcome:
    """What became of one delivery after its retries."""

    delivered: bool
    attempts: int
    status_code: int = 0
    error: str = ""


class WebhookHub:
    """Registered webhooks and the deliveries in flight."""

    def __init__(self, store: SqlJobStore, settings: JobSettings) -> None:
        self.store = store
        self.settings = settings
        self._hooks: dict[str, WebhookRecord] = {h.webhook_id: h for h in store.webhooks()}
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def client(self) -> httpx.AsyncClient:
        """One client for every delivery; proxies from the environment are ignored (loopback works)."""
        if self._client is None:
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client

    def register(
        self, url: str, events: list[str], secret: str, retry_count: int, timeout_seconds: float
    ) -> tuple[WebhookRecord, str]:
        """Validates and stores a webhook; returns it and the secret when one was generated."""
        url = validate_url(url, "url", self.settings.destinations)
        if not events:
            raise InvalidInput(
                "events must name at least one event",
                details={"field": "events", "supported": list(EVENTS)},
            )
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            raise InvalidInput(
                f"unsupported event {unknown[0]!r}",
                details={"field": "events", "provided": unknown[0], "supported": list(EVENTS)},
                suggestion="subscribe to the supported events listed in details",
            )
        if retry_count > self.settings.webhook_max_retries:
            raise InvalidInput(
                f"retry_count is {retry_count}; at most {self.settings.webhook_max_retries} is accepted",
                details={"field": "config.retry_count", "max": self.settings.webhook_max_retries},
            )
        timeout = timeout_seconds or self.settings.webhook_timeout_seconds
        if not 0 < timeout <= self.settings.webhook_max_timeout_seconds:
            raise InvalidInput(
                f"timeout must be in (0, {self.settings.webhook_max_timeout_seconds:g}] seconds",
                details={"field": "config.timeout", "max": self.settings.webhook_max_timeout_seconds},
            )
        generated = "" if secret else secrets.token_urlsafe(32)
        hook = WebhookRecord(
            webhook_id=f"wh_{uuid.uuid4().hex[:20]}",
            url=url,
            events=tuple(dict.fromkeys(events)),
            secret=secret or generated,
            retry_count=retry_count,
            timeout_seconds=timeout,
            created_at=time.time(),
        )
        self.store.add_webhook(hook)
        self._hooks[hook.webhook_id] = hook
        return hook, generated

    def refresh(self) -> None:
        """Re-reads the webhooks from the store (registered or deleted through another replica)."""
        hooks = {h.webhook_id: h for h in self.store.webhooks()}
        for webhook_id, hook in hooks.items():
            known = self._hooks.get(webhook_id)
            if known is not None:  # keep the local delivery counts' object; take the stored totals
                known.delivered, known.failed = hook.delivered, hook.failed
                hooks[webhook_id] = known
        self._hooks = hooks

    def list(self) -> list[WebhookRecord]:
        """Every webhook, oldest first."""
        return sorted(self._hooks.values(), key=lambda h: h.created_at)

    def delete(self, webhook_id: str) -> None:
        """Removes a webhook (its deliveries in flight finish)."""
        if self._hooks.pop(webhook_id, None) is None or not self.store.delete_webhook(webhook_id):
            raise NotFound(f"webhook {webhook_id!r} does not exist", details={"webhook_id": webhook_id})

    def subscribed(self, event: str) -> bool:
        """Whether any webhook listens for an event (cheap: callers skip building payloads)."""
        return any(event in h.events for h in self._hooks.values())

    def emit(self, event: str, data: Mapping[str, Any]) -> None:
        """Delivers an event to every webhook subscribed to it, in the background."""
        hooks = [h for h in self._hooks.values() if event in h.events]
        if not hooks:
            return
        event_id = f"evt_{uuid.uuid4().hex[:20]}"
        body = envelope(event_id, event, data)
        for hook in hooks:
            self._spawn(self._deliver_hook(hook, event, event_id, body))

    def callback(self, url: str, secret: str, event: str, data: Mapping[str, Any]) -> asyncio.Task[Outcome]:
        """POSTs a job's completion to its callback_url in the background; the task gives the outcome."""
        event_id = f"evt_{uuid.uuid4().hex[:20]}"
        return self._spawn(
            self.deliver(
                url,
                secret,
                event,
                event_id,
                envelope(event_id, event, data),
                self.settings.callback_retries,
                self.settings.webhook_timeout_seconds,
            )
        )

    async def _deliver_hook(self, hook: WebhookRecord, event: str, event_id: str, body: bytes) -> Outcome:
        outcome = await self.deliver(
            hook.url, hook.secret, event, event_id, body, hook.retry_count, hook.timeout_seconds
        )
        if outcome.delivered:
            hook.delivered += 1
        else:
            hook.failed += 1
            log.warning(
                "webhook delivery gave up",
                extra={
                    "webhook_id": hook.webhook_id,
                    "event": event,
                    "attempts": outcome.attempts,
                    "error": outcome.error,
                },
            )
        if hook.webhook_id in self._hooks:
            self.store.count_delivery(hook.webhook_id, outcome.delivered)
        return outcome

    async def deliver(
        self, url: str, secret: str, event: str, event_id: str, body: bytes, retries: int, timeout: float
    ) -> Outcome:
        """POSTs one body, retrying failures with doubling backoff; never raises."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "meshserve-webhooks/1",
            "X-Webhook-Event": event,
            "X-Webhook-Id": event_id,
            "X-Webhook-Timestamp": str(int(time.time())),
        }
        if secret:
            headers[SIGNATURE_HEADER] = sign(secret, body)
        outcome = Outcome(delivered=False, attempts=0)
        host = urlsplit(url).hostname or ""
        if not await self.settings.destinations.allows(host):
            # Registered before the allowlist changed, or a name now resolving elsewhere.
            outcome.error = f"destination {host!r} is not allowed (webhook_allowed_hosts)"
            return outcome
        for attempt in range(retries + 1):
            if attempt:
                delay = min(MAX_BACKOFF_SECONDS, self.settings.webhook_backoff_seconds * 2 ** (attempt - 1))
                await asyncio.sleep(delay)
            outcome.attempts = attempt + 1
            try:
                reply = await self.client.post(url, content=body, headers=headers, timeout=timeout)
            except httpx.HTTPError as exc:
                outcome.status_code, outcome.error = 0, f"{type(exc).__name__}: {exc}"[:300]
                continue
            outcome.status_code = reply.status_code
            if 200 <= reply.status_code < 300:
                outcome.delivered, outcome.error = True, ""
                return outcome
            outcome.error = f"HTTP {reply.status_code}"
        return outcome

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self, grace: float = 2.0) -> None:
        """Lets deliveries in flight finish for a moment, then abandons the rest."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()


def envelope(event_id: str, event: str, data: Mapping[str, Any]) -> bytes:
    """The delivery body; these exact bytes are signed."""
    payload = {"id": event_id, "event": event, "created_at": iso(time.time()), "data": dict(data)}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
