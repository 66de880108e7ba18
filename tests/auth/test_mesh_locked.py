"""The whole mesh with ENABLE_AUTH=true: services talk to each other with the internal token, a write
key predicts end to end on several surfaces, a read key and no key are refused."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.procs import Mesh, run_mesh

pytestmark = pytest.mark.slow

ADMIN, PASSWORD = "root", "root-password-1"


@pytest.fixture(scope="module")
def locked_mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """Every service and the gateway, auth on."""
    env = {
        "ENABLE_AUTH": "true",
        "MESHSERVE_JWT_SECRET": secrets.token_urlsafe(48),
        "MESHSERVE_INTERNAL_TOKEN": secrets.token_urlsafe(24),
        "MESHSERVE_AUTH_ADMIN_USERNAME": ADMIN,
        "MESHSERVE_AUTH_ADMIN_PASSWORD": PASSWORD,
    }
    with run_mesh(tmp_path_factory.mktemp("locked-mesh"), env, rate_limits=True) as mesh:
        yield mesh


def test_locked_mesh_predicts_for_a_write_key_only(locked_mesh: Mesh) -> None:
    with httpx.Client(base_url=locked_mesh.base_url, timeout=120) as http:
        assert http.get("/health").status_code == 200
        token = http.post("/auth/login", json={"username": ADMIN, "password": PASSWORD}).json()[
            "access_token"
        ]
        auth = {"Authorization": f"Bearer {token}"}
        write = http.post("/auth/generate-key", json={"role": "write", "plan": "pro"}, headers=auth).json()
        read = http.post("/auth/generate-key", json={"role": "read"}, headers=auth).json()
        body = {"inputs": [[1.0, 2.0]]}
        reply = http.post("/predict", json=body, headers={"X-API-Key": write["api_key"]})
        assert reply.status_code == 200, reply.text
        assert reply.json()["result"] == [[3.0, 5.0]]  # example: 2x + 1
        assert reply.headers["x-ratelimit-limit"] == "10000"
        reply = http.post(
            "/v1/models/example/predict", json=body, headers={"Authorization": f"Token {write['api_key']}"}
        )
        assert reply.status_code == 200 and reply.json()["outputs"] == [[3.0, 5.0]]
        assert (
            http.get("/v1/models", headers=auth).status_code == 200
        )  # registry reached with the internal token
        assert http.post("/predict", json=body).status_code == 401
        assert http.post("/predict", json=body, headers={"X-API-Key": read["api_key"]}).status_code == 403
