"""Resolving credentials at the gateway without calling auth on the hot path.

JWTs are verified here (same secret, pinned algorithm, checked claims) and refused when their
session is in the revocation set. API keys are resolved by the auth service once and the result is
reused for ``key_cache_seconds`` (requests that find a key's look-up missing or expired at the same
moment share one call); the revocation poller drops a revoked key within one poll.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable

from services.auth.jwt_codec import AccessClaims, JwtCodec, looks_like_jwt
from services.auth.keys import looks_like_key
from services.auth.principal import Principal
from services.common.errors import AuthenticationFailed
from services.common.single_flight import SingleFlight

#: Asks the auth service for the principal behind an API key.
KeyResolver = Callable[[str], Awaitable[Principal]]


class RevokedSet:
    """Revoked sessions (until their tokens expire) and revoked API keys."""

    def __init__(self) -> None:
        self.sessions: dict[str, float] = {}
        self.keys: set[str] = set()

    def revoke_session(self, session_id: str, until: float) -> None:
        """Marks a session revoked."""
        self.sessions[session_id] = until

    def session_revoked(self, session_id: str) -> bool:
        """Whether a session is revoked."""
        until = self.sessions.get(session_id)
        if until is None:
            return False
        if until and until < time.time():
            del self.sessions[session_id]
            return False
        return True


class Authenticator:
    """Turns a credential into a :class:`Principal`, or raises :class:`AuthenticationFailed`."""

    def __init__(
        self, codec: JwtCodec, resolve_key: KeyResolver, key_ttl: float, revoked: RevokedSet
    ) -> None:
        self.codec = codec
        self.resolve_key = resolve_key
        self.key_ttl = key_ttl
        self.revoked = revoked
        self._keys: dict[str, tuple[Principal, float]] = {}
        self._resolving: SingleFlight[str, Principal] = SingleFlight()
        # Exact token strings already verified (signature and claims), kept until they expire.
        self._verified: dict[str, AccessClaims] = {}

    async def resolve(self, credential: str) -> Principal:
        """The principal behind a credential."""
        if looks_like_jwt(credential):
            claims = self._verified.get(credential)
            if claims is None or claims.expires_at <= time.time():
                claims = self.codec.verify(credential)
                if len(self._verified) >= 10_000:  # bound the cache: start over
                    self._verified.clear()
                self._verified[credential] = claims
            if self.revoked.session_revoked(claims.session_id):
                raise AuthenticationFailed(
                    "session revoked", details={"credential": "jwt"}, suggestion="log in again"
                )
            return claims.principal()
        if not looks_like_key(credential):
            # Not ours (say, an OpenAI client's placeholder key): no need to ask auth.
            raise AuthenticationFailed(
                "unrecognised credential", suggestion="send a meshserve JWT or API key (msk_…)"
            )
        digest = hashlib.sha256(credential.encode()).hexdigest()
        cached = self._keys.get(digest)
        now = time.monotonic()
        if cached is not None and cached[1] > now and cached[0].api_key_id not in self.revoked.keys:
            principal = cached[0]
        else:
            principal = await self._resolving.do(digest, lambda: self._look_up(credential, digest))
        if principal.expires_at and principal.expires_at < time.time():
            raise AuthenticationFailed("API key expired", details={"credential": "api_key"})
        if principal.api_key_id in self.revoked.keys:
            raise AuthenticationFailed("API key revoked", details={"credential": "api_key"})
        return principal

    async def _look_up(self, credential: str, digest: str) -> Principal:
        """Asks the auth service for a key's principal and keeps it for ``key_ttl``."""
        principal = await self.resolve_key(credential)
        self._keys[digest] = (principal, time.monotonic() + self.key_ttl)
        if len(self._keys) > 10_000:  # bound the cache: drop the stalest half
            for old in sorted(self._keys, key=lambda d: self._keys[d][1])[:5_000]:
                del self._keys[old]
        return principal

    def drop_key(self, key_id: str) -> None:
        """Forgets cached look-ups of a key and refuses it from now on."""
        self.revoked.keys.add(key_id)
        for digest in [d for d, (p, _) in self._keys.items() if p.api_key_id == key_id]:
            del self._keys[digest]
