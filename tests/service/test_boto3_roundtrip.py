"""A real boto3 client through all nine operations, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.app.requests import random_request
from tests.service.protocol import RestWorker

OBJECTIVE = "validation:accuracy"


def test_nine_operations_round_trip(sm: Any, live_server: Any) -> None:
    request = random_request("roundtrip", max_jobs=3)
    arn = sm.create_hyper_parameter_tuning_job(**request)["HyperParameterTuningJobArn"]
    assert arn.endswith(":hyper-parameter-tuning-job/roundtrip")
    assert arn.startswith(f"arn:aws:sagemaker:us-east-1:{live_server.settings.account_id}:")

    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="roundtrip")
    assert described["HyperParameterTuningJobStatus"] == "InProgress"
    assert isinstance(described["CreationTime"], dt.datetime)
    static = described["TrainingJobDefinition"]["StaticHyperParameters"]
    assert static["_tuning_objective_metric"] == OBJECTIVE
    assert described["TrainingJobDefinition"]["ResourceConfig"]["InstanceType"] == "ml.m5.large"
    assert "BestTrainingJob" not in described

    worker = RestWorker(live_server.url)
    values = [0.7, 0.9, 0.8]
    names = [worker.run_one("roundtrip", OBJECTIVE, v) for v in values]
    for name in names:
        assert name.startswith("roundtrip-")
        seq, suffix = name.removeprefix("roundtrip-").split("-")
        assert len(seq) == 3 and len(suffix) == 8 and int(suffix, 16) >= 0

    done = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="roundtrip")
    assert done["HyperParameterTuningJobStatus"] == "Completed"
    assert done["TrainingJobStatusCounters"]["Completed"] == 3
    assert done["ObjectiveStatusCounters"] == {"Succeeded": 3, "Pending": 0, "Failed": 0}
    best = done["BestTrainingJob"]
    assert best["TrainingJobName"] == names[1]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": "Maximize",
        "MetricName": OBJECTIVE,
        "Value": 0.9,
    }

    summaries = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="roundtrip",
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Descending",
    )["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in summaries] == [names[1], names[2], names[0]]
    tuned = summaries[0]["TunedHyperParameters"]
    assert set(tuned) == {"eta", "subsample", "booster", "max_depth"}
    assert tuned["max_depth"].isdigit()

    job = sm.describe_training_job(TrainingJobName=names[0])
    assert job["TrainingJobStatus"] == "Completed"
    assert job["TuningJobArn"] == arn
    assert job["HyperParameters"]["_tuning_objective_metric"] == OBJECTIVE
    assert job["HyperParameters"]["num_round"] == "100"
    assert job["FinalMetricDataList"][0]["Value"] == 0.7

    listed = sm.list_training_jobs(NameContains="roundtrip")["TrainingJobSummaries"]
    assert {s["TrainingJobName"] for s in listed} == set(names)
    tuning_jobs = sm.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert [t["HyperParameterTuningJobName"] for t in tuning_jobs] == ["roundtrip"]
    assert tuning_jobs[0]["Strategy"] == "Random"

    with pytest.raises(ClientError) as stopped:
        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="roundtrip")
    assert stopped.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as terminal:
        sm.stop_training_job(TrainingJobName=names[0])
    assert terminal.value.response["Error"]["Message"] == (
        "The request was rejected because the training job is in status Completed."
    )

    sm.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName="roundtrip")
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="roundtrip")
    # Deleting the tuning job keeps its training jobs, as AMT does.
    assert sm.describe_training_job(TrainingJobName=names[0])["TuningJobArn"] == arn


def test_stop_moves_through_stopping_to_stopped(sm: Any, live_server: Any) -> None:
    sm.create_hyper_parameter_tuning_job(**random_request("stopper", max_jobs=5, parallel=2))
    worker = RestWorker(live_server.url)
    running = worker.claim_job("stopper")["TrainingJobName"]
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopper")
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopper")
    assert described["HyperParameterTuningJobStatus"] == "Stopping"
    assert sm.describe_training_job(TrainingJobName=running)["TrainingJobStatus"] == "Stopping"
    assert worker.heartbeat(running).json()["StopRequested"] is True
    claim = worker.claim("stopper")
    assert claim.status_code == 409
    assert claim.json()["__type"] == "TuningJobNotInProgress"
    # The worker reports back: the job it was told to stop ends Stopped, and so does tuning.
    assert worker.metrics(running, OBJECTIVE, 0.5).json() == {"StopRequested": True}
    assert worker.complete(running).json() == {"TrainingJobStatus": "Stopped"}
    final = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="stopper")
    assert final["HyperParameterTuningJobStatus"] == "Stopped"
    assert final["TrainingJobStatusCounters"]["Stopped"] == 1
    assert final["BestTrainingJob"]["TrainingJobName"] == running


def test_paginators_walk_every_row_exactly_once(sm: Any, live_server: Any) -> None:
    for index in range(7):
        sm.create_hyper_parameter_tuning_job(**random_request(f"pg-{index}", max_jobs=3))
    worker = RestWorker(live_server.url)
    for _ in range(3):
        worker.run_one("pg-0", OBJECTIVE, 0.5)

    pages = sm.get_paginator("list_hyper_parameter_tuning_jobs").paginate(
        PaginationConfig={"PageSize": 2}
    )
    names = [
        s["HyperParameterTuningJobName"]
        for p in pages
        for s in p["HyperParameterTuningJobSummaries"]
    ]
    assert names == [f"pg-{i}" for i in range(7)]

    descending = sm.get_paginator("list_hyper_parameter_tuning_jobs").paginate(
        SortBy="CreationTime", SortOrder="Descending", PaginationConfig={"PageSize": 3}
    )
    names = [
        s["HyperParameterTuningJobName"]
        for p in descending
        for s in p["HyperParameterTuningJobSummaries"]
    ]
    assert names == [f"pg-{i}" for i in reversed(range(7))]

    jobs = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName="pg-0", PaginationConfig={"PageSize": 1}
    )
    assert len([s for p in jobs for s in p["TrainingJobSummaries"]]) == 3

    all_jobs = sm.get_paginator("list_training_jobs").paginate(PaginationConfig={"PageSize": 2})
    assert len({s["TrainingJobName"] for p in all_jobs for s in p["TrainingJobSummaries"]}) == 3


def test_forged_or_foreign_next_token_is_a_validation_error(sm: Any) -> None:
    for index in range(3):
        sm.create_hyper_parameter_tuning_job(**random_request(f"tok-{index}"))
    token = sm.list_hyper_parameter_tuning_jobs(MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as forged:
        sm.list_hyper_parameter_tuning_jobs(NextToken=token[:-2] + "xx")
    assert forged.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as foreign:
        sm.list_hyper_parameter_tuning_jobs(NextToken=token, StatusEquals="Completed")
    assert foreign.value.response["Error"]["Code"] == "ValidationException"


def test_names_are_unique_case_insensitively(sm: Any) -> None:
    sm.create_hyper_parameter_tuning_job(**random_request("Sweep-A"))
    with pytest.raises(sm.exceptions.ResourceInUse) as duplicate:
        sm.create_hyper_parameter_tuning_job(**random_request("sweep-a"))
    assert "sweep-a, already exists" in duplicate.value.response["Error"]["Message"]
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="SWEEP-a")
    assert described["HyperParameterTuningJobName"] == "Sweep-A"
