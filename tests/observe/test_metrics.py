"""GET /metrics: what an operator's Prometheus sees after real traffic through both faces."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from amtune.api.app import create_app
from amtune.app.service import Tuner
from tests.app.requests import random_request
from tests.conftest import FakeClock

CLAIMS_ROUTE = "POST /v1/tuning-jobs/{TuningJobName}/claims"


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def client(tuner: Tuner) -> Iterator[TestClient]:
    with TestClient(create_app(tuner.settings, tuner=tuner)) as test_client:
        yield test_client


def test_metrics_move_with_traffic_and_carry_bounded_labels(
    client: TestClient, tuner: Tuner, clock: FakeClock
) -> None:
    before = scrape(client)
    request = random_request("metrics-job", max_jobs=3, parallel=3)
    request["TrainingJobDefinition"]["RetryStrategy"] = {"MaximumRetryAttempts": 1}
    created = client.post(
        "/",
        content=json.dumps(request),
        headers={"X-Amz-Target": "SageMaker.CreateHyperParameterTuningJob"},
    )
    assert created.status_code == 200, created.text
    worker = {"WorkerId": "w-1"}
    first = client.post("/v1/tuning-jobs/metrics-job/claims", json=worker).json()
    second = client.post("/v1/tuning-jobs/metrics-job/claims", json=worker).json()
    third = client.post("/v1/tuning-jobs/metrics-job/claims", json=worker).json()
    assert client.post("/v1/tuning-jobs/metrics-job/claims", json=worker).status_code == 204
    metric = {"Metrics": [{"MetricName": "validation:accuracy", "Value": 0.9, "Step": 1}]}
    name, lease = first["TrainingJobName"], {"LeaseToken": first["LeaseToken"]}
    answer = client.post(f"/v1/training-jobs/{name}/metrics", json={**metric, **lease})
    assert answer.status_code == 200
    assert client.post(f"/v1/training-jobs/{name}/complete", json=lease).status_code == 200
    assert client.post("/v1/training-jobs/nope/heartbeat", json=lease).status_code == 404
    # The second job's worker goes silent: its lease lapses and it is retried once.
    third_lease = {"LeaseToken": third["LeaseToken"]}
    client.post(f"/v1/training-jobs/{third['TrainingJobName']}/heartbeat", json=third_lease)
    clock.advance(tuner.settings.lease_seconds + 1)
    client.post(f"/v1/training-jobs/{third['TrainingJobName']}/heartbeat", json=third_lease)
    assert tuner.sweep() >= 0
    describe = client.get(f"/v1/training-jobs/{second['TrainingJobName']}").json()
    assert describe["TrainingJobStatus"] == "InProgress"
    client.post("/v1/tuning-jobs/metrics-job/stop")
    client.post("/v1/tuning-jobs/metrics-job/claims", json=worker)  # 409: it is stopping

    after = scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert (
        moved(
            "amtune_requests_total",
            face="aws",
            operation="CreateHyperParameterTuningJob",
            status="200",
        )
        == 1
    )
    assert moved("amtune_requests_total", face="rest", operation=CLAIMS_ROUTE, status="200") == 3
    assert moved("amtune_requests_total", face="rest", operation=CLAIMS_ROUTE, status="204") == 1
    assert moved("amtune_requests_total", face="rest", operation=CLAIMS_ROUTE, status="409") == 1
    assert (
        moved(
            "amtune_requests_total",
            face="rest",
            operation="POST /v1/training-jobs/{TrainingJobName}/heartbeat",
            status="404",
        )
        == 1
    )
    assert (
        moved(
            "amtune_request_duration_seconds_count",
            face="rest",
            operation=CLAIMS_ROUTE,
        )
        == 5
    )
    assert moved("amtune_claims_total", status="200") == 3
    assert moved("amtune_claims_total", status="204") == 1
    assert moved("amtune_claims_total", status="409") == 1
    assert moved("amtune_suggestion_duration_seconds_count", strategy="Random") >= 3
    # Counters are per process, and other tests' servers in this process may move them too.
    assert moved("amtune_lease_lapses_total") >= 2  # both unreported jobs went silent
    assert moved("amtune_training_job_retries_total") >= 2
    assert moved("amtune_training_job_endings_total", status="Completed") >= 1
    # No series is labelled by a job name, whatever the traffic.
    assert not any("metrics-job" in str(labels) for _, labels in after)
    assert value(after, "amtune_training_jobs", status="Completed") >= 1
    assert (
        value(after, "amtune_tuning_jobs", status="Stopping")
        + value(after, "amtune_tuning_jobs", status="Stopped")
        >= 1
    )
    assert ("amtune_db_pool_connections_in_use", ()) in after


def test_every_answer_carries_a_request_id(client: TestClient) -> None:
    ok = client.get("/v1/tuning-jobs")
    bad = client.post("/", headers={"X-Amz-Target": "SageMaker.Nope"}, content=b"{}")
    ids = {ok.headers["x-amzn-RequestId"], bad.headers["x-amzn-RequestId"]}
    assert len(ids) == 2
    assert all(len(i) == 36 for i in ids)


def test_docs_load_nothing_from_another_host(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text.replace("http://127.0.0.1", "")
    assert "https://" not in page.text
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200
