"""The Python worker API under early stopping, and the metric history through ``amtune.client``."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

import amtune.sdk
from amtune.worker.local_service import LocalService
from tests.worker.live import OBJECTIVE, tuning_request, unique_name, wait_for

pytestmark = pytest.mark.slow


def test_should_stop_turns_true_when_the_median_rule_stops_the_job(service: LocalService) -> None:
    sm = amtune.sdk.client(endpoint_url=service.url)
    name = unique_name("api-auto")
    request = tuning_request(name, max_jobs=4, parallel=1)
    request["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] = "Auto"
    sm.create_hyper_parameter_tuning_job(**request)

    def stop_requested(job: amtune.sdk.Job) -> bool:
        return job.should_stop

    names = []
    for index, job in enumerate(amtune.sdk.Worker(service.url, name, flush_interval=0.1).jobs()):
        names.append(job.name)
        if index < 3:
            for epoch in (1, 2):
                job.report(OBJECTIVE, 0.9, step=epoch)
            continue
        job.report(OBJECTIVE, 0.1, step=1)
        wait_for("StopRequested to reach the job", partial(stop_requested, job))
        # This training loop ignores the stop for one more epoch; the job still ends Stopped.
        job.report(OBJECTIVE, 0.2, step=2)

    statuses = [sm.describe_training_job(TrainingJobName=n)["TrainingJobStatus"] for n in names]
    assert statuses == ["Completed"] * 3 + ["Stopped"]
    stopped = sm.describe_training_job(TrainingJobName=names[-1])
    final = {m["MetricName"]: m["Value"] for m in stopped["FinalMetricDataList"]}
    assert final[OBJECTIVE] == 0.2

    history = sm.list_training_job_metrics(TrainingJobName=names[-1], MetricName=OBJECTIVE)
    assert [(p["Step"], p["Value"]) for p in history["Metrics"]] == [(1, 0.1), (2, 0.2)]
    assert all(isinstance(p["Timestamp"], dt.datetime) for p in history["Metrics"])
    pages = sm.get_paginator("list_training_job_metrics").paginate(
        TrainingJobName=names[0], PaginationConfig={"PageSize": 1}
    )
    assert [[p["Step"] for p in page["Metrics"]] for page in pages] == [[1], [2]]
    with pytest.raises(sm.exceptions.ClientError) as missing:
        sm.list_training_job_metrics(TrainingJobName=f"{name}-999-00000000")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
