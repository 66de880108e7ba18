"""JWT access tokens: issued by the auth service, verified by it and, locally, by the gateway.

The algorithm is pinned to HS256: a header naming anything else (``none``, ``RS256`` with the
secret passed off as a public key, …) is refused before any signature check. ``exp``, ``iat``,
``aud``, ``iss``, ``sub`` and ``jti`` are required and checked. No transport imports.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from services.auth.principal import Principal
from services.common.errors import AuthenticationFailed

ALGORITHM = "HS256"
#: The development secret; refused at start whenever authentication is enabled.
DEFAULT_SECRET = "meshserve-development-secret-not-for-production"
#: ``iss`` and ``aud`` of access tokens unless configured: the auth service signs with them and the
#: gateway accepts them, so both default to these.
DEFAULT_ISSUER = "meshserve-auth"
DEFAULT_AUDIENCE = "meshserve"
MIN_SECRET_BYTES = 32
REQUIRED_CLAIMS = ["exp", "iat", "aud", "iss", "sub", "jti"]


def check_secret(secret: str, enable_auth: bool) -> None:
    """Fails fast on the default or a short secret when authentication is enabled."""
    if not enable_auth:
        return
    if secret == DEFAULT_SECRET:
        raise ValueError("ENABLE_AUTH=true with the default JWT secret: set MESHSERVE_JWT_SECRET")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"MESHSERVE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes for HS256")


@dataclass(frozen=True)
class AccessClaims:
    """The verified claims of an access token."""

    user_id: str
    username: str
    role: str
    plan: str
    session_id: str
    token_id: str
    issued_at: int
    expires_at: int

    def principal(self) -> Principal:
        """The caller these claims stand for, authenticated by a JWT."""
        return Principal(
            self.user_id,
            self.username,
            self.role,
            self.plan,
            "jwt",
            expires_at=self.expires_at,
            session_id=self.session_id,
            issued_at=self.issued_at,
        )


class JwtCodec:
    """Issues and verifies access tokens with one secret, issuer and audience."""

    def __init__(self, secret: str, issuer: str, audience: str, ttl_seconds: int = 900) -> None:
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: str, username: str, role: str, plan: str, session_id: str) -> tuple[str, int]:
        """A signed access token and its expiry (Unix seconds)."""
        now = int(time.time())
        exp = now + self.ttl_seconds
        claims = {
            "sub": user_id,
            "name": username,
            "role": role,
            "plan": plan,
            "sid": session_id,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": exp,
            "iss": self.issuer,
            "aud": self.audience,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), exp

    def verify(self, token: str) -> AccessClaims:
        """Verified claims, or :class:`AuthenticationFailed` naming what was wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _failed("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise _failed(f"token algorithm {header.get('alg')!r} is not accepted")
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise _failed("token expired", suggestion="refresh the token or log in again") from None
        except jwt.InvalidAudienceError:
            raise _failed("token audience is not accepted") from None
        except jwt.InvalidIssuerError:
            raise _failed("token issuer is not accepted") from None
        except jwt.InvalidSignatureError:
            raise _failed("token signature is invalid") from None
        except jwt.PyJWTError as error:
            raise _failed(f"invalid token: {error}") from None
        return AccessClaims(
            user_id=str(claims["sub"]),
            username=str(claims.get("name", "")),
            role=str(claims.get("role", "read")),
            plan=str(claims.get("plan", "free")),
            session_id=str(claims.get("sid", "")),
            token_id=str(claims["jti"]),
            issued_at=int(claims["iat"]),
            expires_at=int(claims["exp"]),
        )


def looks_like_jwt(credential: str) -> bool:
    """Whether a credential has the shape of a JWT (three base64url parts)."""
    return credential.count(".") == 2 and credential.startswith("eyJ")


def _failed(message: str, suggestion: str = "") -> AuthenticationFailed:
    return AuthenticationFailed(
        message, details={"credential": "jwt"}, suggestion=suggestion or "log in again for a fresh token"
    )
