"""Who is calling, as resolved by the auth core. No transport imports."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_RANK = {"read": 1, "write": 2, "admin": 3}
PLAN_RANK = {"free": 1, "pro": 2, "enterprise": 3}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    user_id: str
    username: str
    role: str
    plan: str
    credential_type: str  # "jwt" or "api_key"
    api_key_id: str = ""
    expires_at: int = 0
    session_id: str = ""
    issued_at: int = 0

    def has_role(self, role: str) -> bool:
        """Whether this principal's role reaches ``role``."""
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK.get(role, 99)


def permissions_of(role: str) -> list[str]:
    """The roles a role includes, in order (004 §2.3)."""
    return [r for r, rank in ROLE_RANK.items() if rank <= ROLE_RANK.get(role, 0)]
