"""Where a request's credential comes from: ``Authorization: Bearer|Token <x>`` or ``X-API-Key``."""

from __future__ import annotations

from collections.abc import Iterable


def extract_credential(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The credential a request carries ("" for none); ``X-API-Key`` wins over ``Authorization``."""
    authorization = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"x-api-key":
            key = value.decode("latin-1").strip()
            if key:
                return key
        elif lowered == b"authorization":
            authorization = value.decode("latin-1").strip()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() in ("bearer", "token"):
        return token.strip()
    return ""
