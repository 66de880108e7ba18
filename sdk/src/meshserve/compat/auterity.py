"""Document 003's client: ``from meshserve.compat.auterity import AIClient``
(``inference(model=, prompt=, **parameters)``, ``stream(model, prompt)`` yielding token strings,
``batch([{model, prompt}, ...])``)."""

from __future__ import annotations

from meshserve.compat import CompatClient


class AIClient(CompatClient):
    """003's ``AIClient(api_key=...)`` over the ``/api/ai`` surface."""


__all__ = ["AIClient"]
