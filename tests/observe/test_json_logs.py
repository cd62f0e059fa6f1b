"""``AMTUNE_LOG_FORMAT=json``: a live ``amtune serve`` with teams, its stderr read line by line."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from amtune.app.context import Context
from amtune.app.teams import NewKey
from amtune.settings import Settings
from amtune.store.database import Database
from tests.app.requests import random_request
from tests.service.processes import ServerProcess
from tests.teams.conftest import SERVER_KEY, closed_settings, new_team
from tests.teams.signing import bearer, boto3_for


@pytest.fixture(scope="module")
def team(own_database: str) -> NewKey:
    settings: Settings = closed_settings(own_database)
    ctx = Context(db=Database(settings.database_url), settings=settings)
    try:
        return new_team(ctx)
    finally:
        ctx.db.dispose()


def lines_of(server: ServerProcess) -> list[dict[str, Any]]:
    server.stop()
    assert server.process is not None and server.process.stderr is not None
    text = server.process.stderr.read().decode()
    parsed = []
    for line in text.splitlines():
        parsed.append(json.loads(line))  # every line is one JSON object, or this fails
    return parsed


def test_json_lines_name_request_account_operation_and_never_a_secret(
    own_database: str, team: NewKey
) -> None:
    server = ServerProcess(
        own_database,
        "123456789012",
        AMTUNE_LOG_FORMAT="json",
        AMTUNE_LOG_LEVEL="INFO",
        AMTUNE_SECRET_KEY=SERVER_KEY,
    ).start()
    try:
        sm = boto3_for(server.url, team)
        sm.create_hyper_parameter_tuning_job(**random_request("logged", max_jobs=1, parallel=1))
        with pytest.raises(ClientError):
            sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="missing")
        http = httpx.Client(base_url=server.url, headers=bearer(team), timeout=30)
        claim = http.post("/v1/tuning-jobs/logged/claims", json={"WorkerId": "w-7"})
        assert claim.status_code == 200
        job, token = claim.json()["TrainingJobName"], claim.json()["LeaseToken"]
        failed = http.post(
            f"/v1/training-jobs/{job}/fail",
            json={"LeaseToken": token, "FailureReason": "OOM", "Retryable": False},
        )
        assert failed.status_code == 200
        request_id = claim.headers["x-amzn-RequestId"]
        wrong = httpx.get(
            server.url + "/v1/tuning-jobs",
            headers=bearer(team, secret="not-the-secret-0123456789abcdef01234567"),
        )
        assert wrong.status_code == 403
    finally:
        lines = lines_of(server)

    everything = json.dumps(lines)
    assert team.secret_access_key not in everything
    assert "not-the-secret" not in everything
    assert token not in everything  # a lease token proves holding a job: a secret too

    events = {line.get("event"): line for line in lines if "event" in line}
    created = events["tuning_job.created"]
    assert created["account_id"] == team.account_id
    assert created["operation"] == "CreateHyperParameterTuningJob"
    assert created["face"] == "aws"
    claimed = events["training_job.claimed"]
    assert claimed["request_id"] == request_id
    assert claimed["operation"] == "POST /v1/tuning-jobs/{TuningJobName}/claims"
    assert claimed["training_job"] == job and claimed["worker_id"] == "w-7"
    assert events["training_job.failed"]["reason"].endswith("OOM")
    ended = events["tuning_job.ended"]
    assert ended["status"] == "Failed" and ended["reason"]

    requests = [line for line in lines if line.get("event") == "request"]
    missing = next(r for r in requests if r.get("error_code") == "ResourceNotFound")
    assert missing["operation"] == "DescribeHyperParameterTuningJob"
    assert "missing" in missing["error_message"]
    assert missing["account_id"] == team.account_id
    refused = next(r for r in requests if r["status"] == 403)
    assert refused["error_code"]
    assert "account_id" not in refused
