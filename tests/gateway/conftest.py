"""The gateway tests' in-process apps (``create_app()``, which reads the environment) run without
rate limits, like every gateway the tests start (:data:`tests.procs.RATE_LIMITS_OFF`): none of these
tests checks them (``tests/auth/test_rate_limit_defaults.py`` does)."""

from __future__ import annotations

import pytest

from tests.procs import RATE_LIMITS_OFF


@pytest.fixture(autouse=True)
def _no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in RATE_LIMITS_OFF.items():
        monkeypatch.setenv(name, value)
