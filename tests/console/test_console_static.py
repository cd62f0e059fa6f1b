"""The console's scripts reach a browser compressed when it accepts gzip, identical once
decompressed, and revalidate to 304 in either form."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from amtune.api.app import create_app
from amtune.api.console.static_files import accepts_gzip
from amtune.app.service import Tuner
from tests.console.browser import REPO

BUNDLE = "/console/static/vendor/echarts-console.min.js"
ON_DISK = REPO / "service/amtune/api/console/static/vendor/echarts-console.min.js"


@pytest.fixture
def client(tuner: Tuner) -> Iterator[TestClient]:
    with TestClient(create_app(tuner.settings, tuner=tuner)) as test_client:
        yield test_client


def raw_get(client: TestClient, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body as sent (not decompressed by the client)."""
    with client.stream("GET", path, headers=headers) as response:
        body = b"".join(response.iter_raw())
        return response.status_code, dict(response.headers), body


def test_the_chart_bundle_is_sent_gzipped_to_a_browser_that_accepts_it(
    client: TestClient,
) -> None:
    status, headers, body = raw_get(client, BUNDLE, **{"accept-encoding": "gzip, deflate, br"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert "accept-encoding" in headers["vary"].lower()
    assert gzip.decompress(body) == ON_DISK.read_bytes()
    assert len(body) < ON_DISK.stat().st_size / 2
    again, _, _ = raw_get(
        client, BUNDLE, **{"accept-encoding": "gzip", "if-none-match": headers["etag"]}
    )
    assert again == 304

    status, plain, body = raw_get(client, BUNDLE, **{"accept-encoding": "identity"})
    assert status == 200
    assert "content-encoding" not in plain
    assert body == ON_DISK.read_bytes()
    assert plain["etag"] != headers["etag"]  # two forms, two entity tags
    again, _, _ = raw_get(
        client, BUNDLE, **{"accept-encoding": "identity", "if-none-match": plain["etag"]}
    )
    assert again == 304


def test_accept_encoding_is_read_with_its_quality_values() -> None:
    assert accepts_gzip("gzip, deflate, br, zstd")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("identity")
    assert not accepts_gzip("")
