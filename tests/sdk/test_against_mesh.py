"""The SDK against the real mesh: health, info, example predict, typed errors."""

from __future__ import annotations

import pytest

import meshserve
from tests.procs import Mesh

pytestmark = pytest.mark.integration


def test_sdk_against_the_gateway(mesh: Mesh) -> None:
    with meshserve.Client(mesh.base_url) as client:
        assert client.health()["status"] == "healthy"
        assert "version" in client.info()
        result = client.predict("example", [[1.0, 2.0, 3.0]])
        assert result["outputs"] == [[3.0, 5.0, 7.0]] and result["request_id"]
        with pytest.raises(meshserve.NotFoundError) as caught:
            client.predict("no-such-model", [[1.0]])
        assert caught.value.code == "MODEL_NOT_FOUND"
        assert any(m["id"] == "example" for m in client.models.list())
