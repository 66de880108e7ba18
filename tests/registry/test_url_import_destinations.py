"""A URL import never reaches the cloud-metadata addresses, not even through a redirect from an
allowed host (a real local server answers the redirect). No mesh."""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator

import pytest

from services.common.errors import InvalidInput
from services.registry.imports import url_chunks


class Redirect(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/iam/")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def redirecting() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/model.onnx"
    finally:
        server.shutdown()
        server.server_close()


async def read(url: str) -> bytes:
    return b"".join([chunk async for chunk in url_chunks(url, 5.0, lambda done, total: None)])


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/m.onnx"])
async def test_a_metadata_address_is_refused_before_any_request(url: str) -> None:
    with pytest.raises(InvalidInput, match="cloud-metadata") as refused:
        await read(url)
    assert refused.value.details["field"] == "source"


async def test_a_redirect_to_the_metadata_address_is_refused(redirecting: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape("'169.254.169.254'")):
        await read(redirecting)
