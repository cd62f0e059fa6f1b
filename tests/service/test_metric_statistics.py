"""CloudWatch's GetMetricStatistics over training-job metrics, called by boto3's CloudWatch
client as TrainingJobAnalytics calls it (AWS JSON 1.0, signed for "monitoring")."""

from __future__ import annotations

import datetime as dt
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import LiveServer
from tests.service.protocol import RestWorker
from tests.service.test_pool_live import create

NAMESPACE = "/aws/sagemaker/TrainingJobs"
T0 = 1_700_000_000.0


def cloudwatch(url: str) -> Any:
    return boto3.client(
        "cloudwatch",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )


def statistics(client: Any, job: str, **overrides: Any) -> list[dict[str, Any]]:
    request: dict[str, Any] = {
        "Namespace": NAMESPACE,
        "MetricName": "train:loss",
        "Dimensions": [{"Name": "TrainingJobName", "Value": job}],
        "StartTime": dt.datetime.fromtimestamp(T0, dt.UTC),
        "EndTime": dt.datetime.fromtimestamp(T0 + 180, dt.UTC),
        "Period": 60,
        "Statistics": ["Average", "Minimum", "Maximum", "SampleCount"],
        **overrides,
    }
    points: list[dict[str, Any]] = client.get_metric_statistics(**request)["Datapoints"]
    return points


def test_reported_values_come_back_per_period(live_server: LiveServer, sm: Any) -> None:
    create(sm, "curves", "Random")
    worker = RestWorker(live_server.url)
    job = worker.claim_job("curves")["TrainingJobName"]
    reported = [(5, 0.9), (30, 0.7), (65, 0.5), (170, 0.2), (200, 0.1)]
    metrics = [{"MetricName": "train:loss", "Value": v, "Timestamp": T0 + s} for s, v in reported]
    body = worker.leased(job, {"Metrics": metrics})
    assert worker.http.post(f"/v1/training-jobs/{job}/metrics", json=body)
    client = cloudwatch(live_server.url)

    points = statistics(client, job)

    assert [
        (
            p["Timestamp"].timestamp() - T0,
            p["Average"],
            p["Minimum"],
            p["Maximum"],
            p["SampleCount"],
        )
        for p in points
    ] == [
        (0, pytest.approx(0.8), 0.7, 0.9, 2.0),
        (60, 0.5, 0.5, 0.5, 1.0),
        (120, 0.2, 0.2, 0.2, 1.0),
    ]
    assert statistics(client, job, Namespace="AWS/EC2") == []
    assert statistics(client, "no-such-job") == []
    with pytest.raises(ClientError) as caught:
        statistics(client, job, Statistics=["Median"])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "'statistics'" in caught.value.response["Error"]["Message"]
