"""Shared fixtures: one real mesh per test session, started through the launcher on free ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.procs import Mesh, run_mesh


@pytest.fixture(scope="session")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """The whole mesh (every service and the gateway as separate processes)."""
    with run_mesh(tmp_path_factory.mktemp("mesh")) as running:
        yield running
