"""The one permission table: every route of every surface, present or future, maps to an access level.

Rules are tried in order; the first whose method set and path pattern match decides. A route that
no rule names needs ``admin``: new endpoints are closed until someone opens them here.
Levels: ``public`` (no credential even with auth on), ``authenticated`` (any role), then the
roles of document 004 §2.3, each including the ones before it: ``read`` < ``write`` < ``admin``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Access(StrEnum):
    """What a route needs."""

    PUBLIC = "public"
    AUTHENTICATED = "authenticated"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


@dataclass(frozen=True)
class Rule:
    """Methods (empty: any) and an anchored path pattern."""

    methods: frozenset[str]
    pattern: re.Pattern[str]
    access: Access

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule covers a request."""
        return (not self.methods or method in self.methods) and self.pattern.fullmatch(path) is not None


ANY = ""
READS = "GET HEAD"
WRITES = "POST PUT PATCH DELETE"


def rule(methods: str, pattern: str, access: Access) -> Rule:
    """A rule from space-separated methods ("" for any) and a regex matched against the whole path."""
    return Rule(frozenset(methods.split()), re.compile(pattern), access)


RULES: tuple[Rule, ...] = (
    # Never locked: liveness, readiness, docs, CORS preflight.
    rule("OPTIONS", r"/.*", Access.PUBLIC),
    rule(READS, r"/health|/v2/health/(live|ready)", Access.PUBLIC),
    rule(READS, r"/docs(/.*)?|/redoc|/openapi\.json", Access.PUBLIC),
    # Getting credentials.
    rule("POST", r"/auth/(register|login)|/api/v1/auth/login|/v1/auth/refresh", Access.PUBLIC),
    # One's own account, whatever the role.
    rule(ANY, r"/auth/(logout|profile|generate-key|keys(/[^/]+)?)", Access.AUTHENTICATED),
    rule(ANY, r"/v1/auth/token|/api/v1/auth/.*", Access.AUTHENTICATED),
    # Metering (003 analytics): one's own usage and budget (the routes refuse other tenants to
    # non-admins), every plan to read; plans are edited by admins.
    rule(READS, r"/api/analytics/(usage|plans|budget)", Access.AUTHENTICATED),
    rule("PUT", r"/api/analytics/budget", Access.AUTHENTICATED),
    rule("PUT", r"/api/analytics/plans/[^/]+", Access.ADMIN),
    # Administration: audit, logs, server and scaling control, model and plugin management.
    rule(ANY, r"/api/ai/security(/.*)?", Access.ADMIN),
    rule(ANY, r"/logs(/.*)?", Access.ADMIN),
    rule(WRITES, r"/(server|autoscaler|gpu|config)(/.*)?", Access.ADMIN),
    rule(WRITES, r"/v1/models|/v1/models/[^/]+", Access.ADMIN),
    rule(WRITES, r"/models(/.*)?", Access.ADMIN),
    rule(WRITES, r"/api/v1/(models|plugins|system)(/.*)?", Access.ADMIN),
    rule(WRITES, r"/api/ai/models(/.*)?", Access.ADMIN),
    rule(ANY, r"/v2/repository(/.*)?", Access.ADMIN),
    # Inference (004 "write": execute inference operations).
    rule("POST", r"/predict|/synthesize|/transcribe", Access.WRITE),
    rule(
        "POST",
        r"/v1/models/.+/predict|/v1/(chat/)?completions|/v1/responses|/v1/audio/.+|/v1/embeddings",
        Access.WRITE,
    ),
    rule("DELETE", r"/v1/responses/[^/]+", Access.WRITE),  # one's own stored response
    rule(WRITES, r"/v1/conversations(/.*)?", Access.WRITE),  # one's own conversations
    rule("POST", r"/api/v1/(infer|batch_infer|stream_infer)", Access.WRITE),
    rule("POST", r"/tokenize|/detokenize", Access.WRITE),  # vLLM's: they place the model
    rule("POST", r"/v2/models/.+/infer", Access.WRITE),
    rule("POST", r"/api/ai/.+|/api/gateway/route", Access.WRITE),
    # Looking (004 "read": status and monitoring data).
    # 004 §7: every Socket.IO channel is monitoring data. A client may instead send its token in the
    # connect packet (``auth: {token}``); see IN_BAND below.
    rule(ANY, r"/socket\.io(/.*)?", Access.READ),
    rule(READS, r"/dashboard(/.*)?", Access.READ),
    rule(READS, r"/(info|stats|config|metrics|models|gpu|autoscaler|server|audio|tts)(/.*)?", Access.READ),
    rule(READS, r"/v1/.+|/api/v1/.+|/api/ai/.+|/api/analytics/.+|/v2(/.*)?|/tokenizer_info", Access.READ),
)

#: What a request that no rule names needs.
DEFAULT_ACCESS = Access.ADMIN

#: Paths whose credential may come in-band rather than in a header: the Socket.IO transport carries
#: 004 §7.1's ``auth: {token}`` only in its connect packet, after the HTTP/WebSocket handshake. A
#: request here without a header credential passes the middleware anonymous, and the endpoint must
#: authenticate the in-band token to the same access level (``required_access``) before serving.
IN_BAND = re.compile(r"/socket\.io(/.*)?")

#: Paths too frequent and too uninformative to audit or count (probes and docs).
QUIET = re.compile(r"/health|/v2/health/(live|ready)|/docs(/.*)?|/redoc|/openapi\.json|/metrics")


def required_access(method: str, path: str) -> Access:
    """The access level a request needs."""
    method = method.upper()
    for candidate in RULES:
        if candidate.matches(method, path):
            return candidate.access
    return DEFAULT_ACCESS


def credential_in_band(path: str) -> bool:
    """Whether a path authenticates in its own protocol when no header credential comes."""
    return IN_BAND.fullmatch(path) is not None


#: Audited but not counted against rate limits: the dashboard's own files and the Socket.IO
#: transport (one page load fetches several, and a long-poll client asks every few seconds).
UNCOUNTED = re.compile(r"/dashboard/static/.*|/socket\.io/.*|/favicon\.ico")


def is_quiet(path: str) -> bool:
    """Whether a path is a probe or docs (not audited, not rate limited)."""
    return QUIET.fullmatch(path) is not None


def is_counted(path: str) -> bool:
    """Whether a request to a path counts against the rate limits."""
    return not is_quiet(path) and UNCOUNTED.fullmatch(path) is None
