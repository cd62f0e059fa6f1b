"""Property-based fuzzing of every operation in the committed OpenAPI document, on a live server.

Generated requests (valid and invalid by the schema) must never get a 5xx,
and every answer must be one the document promises: its status, content type and body schema.
Examples per operation are capped so the run stays in CI's budget.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from amtune.settings import Settings
from amtune.store.migrate import upgrade
from tests.conftest import LiveServer, new_account_id

OPENAPI = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
schema = schemathesis.openapi.from_path(OPENAPI)
# Never a 5xx; every answer in the documented media type and, where documented, body schema.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'amtune.db'}"
    upgrade(url)
    with LiveServer(Settings(database_url=url, account_id=new_account_id())) as live:
        yield live


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_live_app_keeps_the_documents_promises(case: Any, server: LiveServer) -> None:
    case.call_and_validate(base_url=server.url, checks=CHECKS)


# Statuses are checked apart: the routes answer statuses their decorators do not document.


def test_every_status_answered_is_documented(server: LiveServer) -> None:
    operation = schema["/v1/tuning-jobs/{TuningJobName}"]["GET"]
    case = operation.Case(path_parameters={"TuningJobName": "missing"})
    case.call_and_validate(base_url=server.url, checks=[status_code_conformance])
