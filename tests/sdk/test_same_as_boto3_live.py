"""The amtune client and real boto3 give the same answers, against the same live service.

One scenario (create a Grid job, work it off with the Python worker API, describe, list,
paginate, hit the error paths, stop, delete) runs through each client; the normalised records
must be equal. Then both clients read the very same jobs and must return equal dicts.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

import amtune.sdk
from amtune.worker.local_service import LocalService
from tests.worker.live import OBJECTIVE, expected_objective, tuning_request, unique_name

pytestmark = pytest.mark.slow

#: Members that differ between two runs by design: names, ARNs, wall-clock durations.
VARYING = frozenset(
    {
        "ResponseMetadata",
        "TrainingJobName",
        "TrainingJobArn",
        "ConsumedResources",
        "TrainingTimeInSeconds",
        "BillableTimeInSeconds",
    }
)
TRAINING_JOB_SUFFIX = re.compile(r"<name>-\d{3}-[0-9a-f]{8}")
GRID = {
    "CategoricalParameterRanges": [
        {"Name": "x", "Values": ["0.1", "0.3", "0.6"]},
        {"Name": "y", "Values": ["1", "2"]},
    ]
}


def real_boto3(url: str) -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"mode": "standard", "max_attempts": 2}),
    )


def amtune_client(url: str) -> Any:
    return amtune.sdk.client(
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )


def work_off(url: str, name: str) -> None:
    """Python training code: every job reports the known objective and completes."""
    worker = amtune.sdk.Worker(url, name)
    for job in worker.jobs():
        with job:
            x, y = job.hyperparameters["x"], job.hyperparameters["y"]
            job.report(OBJECTIVE, expected_objective({"x": str(x), "y": str(y)}), step=1)


def error_of(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    err = caught.value
    return {
        "class": type(err).__name__,
        "code": err.response["Error"]["Code"],
        "message": err.response["Error"]["Message"],
        "status": err.response["ResponseMetadata"]["HTTPStatusCode"],
        "str": str(err),
    }


def normalise(value: Any, name: str) -> Any:
    """Drop what differs between two runs by design: names, ARNs, times, request ids."""
    if isinstance(value, dict):
        return {
            k: normalise(v, name)
            for k, v in value.items()
            if k not in VARYING and not k.endswith("Time") and k != "LastModifiedTime"
        }
    if isinstance(value, list):
        return [normalise(v, name) for v in value]
    if isinstance(value, str):
        text = value.replace(name, "<name>").replace(name.lower(), "<name>")
        return TRAINING_JOB_SUFFIX.sub("<name>-NNN-HEX", text)
    if isinstance(value, dt.datetime):
        return "<time>"
    return value


def scenario(sm: Any, url: str, name: str) -> dict[str, Any]:
    record: dict[str, Any] = {}
    created = sm.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=None, parallel=2, strategy="Grid", ranges=GRID)
    )
    record["create"] = created["HyperParameterTuningJobArn"].replace(name.lower(), "<name>")
    record["duplicate"] = normalise(
        error_of(
            lambda: sm.create_hyper_parameter_tuning_job(
                **tuning_request(name, max_jobs=None, parallel=2, strategy="Grid", ranges=GRID)
            )
        ),
        name,
    )
    threads = [threading.Thread(target=work_off, args=(url, name)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    record["describe"] = normalise(described, name)
    assert described["CreationTime"].tzinfo is not None

    ranked = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Descending",
        MaxResults=100,
    )
    record["ranked"] = [
        (
            s["TunedHyperParameters"],
            s["TrainingJobStatus"],
            s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"],
        )
        for s in ranked["TrainingJobSummaries"]
    ]
    first = ranked["TrainingJobSummaries"][0]["TrainingJobName"]
    record["describe_training_job"] = normalise(
        sm.describe_training_job(TrainingJobName=first), name
    )

    paginator = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    pages = list(
        paginator.paginate(HyperParameterTuningJobName=name, PaginationConfig={"PageSize": 4})
    )
    record["page_sizes"] = [len(p["TrainingJobSummaries"]) for p in pages]
    truncated = paginator.paginate(
        HyperParameterTuningJobName=name, PaginationConfig={"PageSize": 4, "MaxItems": 5}
    ).build_full_result()
    record["max_items"] = len(truncated["TrainingJobSummaries"])
    rest = paginator.paginate(
        HyperParameterTuningJobName=name,
        PaginationConfig={"PageSize": 4, "StartingToken": truncated["NextToken"]},
    ).build_full_result()
    record["resumed"] = len(rest["TrainingJobSummaries"])
    all_names = {s["TrainingJobName"] for s in truncated["TrainingJobSummaries"]} | {
        s["TrainingJobName"] for s in rest["TrainingJobSummaries"]
    }
    record["resumed_covers_all"] = len(all_names)

    listed = sm.get_paginator("list_hyper_parameter_tuning_jobs").paginate(NameContains=name)
    record["listed"] = normalise(
        [s for page in listed for s in page["HyperParameterTuningJobSummaries"]], name
    )
    trainings = sm.get_paginator("list_training_jobs").paginate(NameContains=name)
    record["training_jobs"] = sorted(
        s["TrainingJobStatus"] for page in trainings for s in page["TrainingJobSummaries"]
    )

    missing = name + "-nope"
    describe_missing = partial(
        sm.describe_hyper_parameter_tuning_job, HyperParameterTuningJobName=missing
    )
    record["describe_missing"] = normalise(error_of(describe_missing), name)
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=missing)
    record["describe_training_missing"] = normalise(
        error_of(lambda: sm.describe_training_job(TrainingJobName=missing)), name
    )
    record["bad_request"] = error_of(lambda: sm.list_hyper_parameter_tuning_jobs(MaxResults=1000))
    record["stop_ended"] = normalise(
        error_of(lambda: sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)),
        name,
    )
    deleted = sm.delete_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    record["delete"] = {k: v for k, v in deleted.items() if k != "ResponseMetadata"}
    record["after_delete"] = normalise(
        error_of(lambda: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)),
        name,
    )
    return record


def test_same_scenario_same_results(service: LocalService) -> None:
    ours = scenario(amtune_client(service.url), service.url, unique_name("same-a"))
    theirs = scenario(real_boto3(service.url), service.url, unique_name("same-b"))

    for key in theirs:
        assert ours[key] == theirs[key], key
    assert ours == theirs
    # And the scenario itself did what it should.
    assert ours["describe"]["HyperParameterTuningJobStatus"] == "Completed"
    assert ours["describe"]["TrainingJobStatusCounters"]["Completed"] == 6
    values = [value for _, _, value in ours["ranked"]]
    assert values == sorted(values, reverse=True) and len(values) == 6
    assert ours["page_sizes"] == [4, 2]
    assert (ours["max_items"], ours["resumed"], ours["resumed_covers_all"]) == (5, 1, 6)
    assert ours["describe_missing"]["class"] == "ResourceNotFound"
    assert ours["describe_training_missing"]["code"] == "ValidationException"
    assert ours["describe_training_missing"]["class"] == "ClientError"


def test_both_clients_read_identical_dicts(service: LocalService) -> None:
    ours, theirs = amtune_client(service.url), real_boto3(service.url)
    name = unique_name("read")
    ours.create_hyper_parameter_tuning_job(
        **tuning_request(name, max_jobs=None, parallel=2, strategy="Grid", ranges=GRID)
    )
    work_off(service.url, name)

    def strip(response: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}

    client_calls: tuple[Callable[[Any], dict[str, Any]], ...] = (
        lambda sm: sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name),
        lambda sm: sm.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name, MaxResults=100
        ),
        lambda sm: sm.list_hyper_parameter_tuning_jobs(NameContains=name),
        lambda sm: sm.list_training_jobs(NameContains=name, MaxResults=100),
    )
    for client_call in client_calls:
        assert strip(client_call(ours)) == strip(client_call(theirs))
    listed = ours.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name
    )
    for summary in listed["TrainingJobSummaries"]:
        job = summary["TrainingJobName"]
        assert strip(ours.describe_training_job(TrainingJobName=job)) == strip(
            theirs.describe_training_job(TrainingJobName=job)
        )


def test_time_filters_accept_datetimes(service: LocalService) -> None:
    ours, theirs = amtune_client(service.url), real_boto3(service.url)
    name = unique_name("time")
    ours.create_hyper_parameter_tuning_job(**tuning_request(name, max_jobs=1, parallel=1))
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    for sm in (ours, theirs):
        found = sm.list_hyper_parameter_tuning_jobs(NameContains=name, CreationTimeAfter=since)
        assert [
            s["HyperParameterTuningJobName"] for s in found["HyperParameterTuningJobSummaries"]
        ] == [name]
        later = sm.list_hyper_parameter_tuning_jobs(
            NameContains=name, CreationTimeAfter=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        )
        assert later["HyperParameterTuningJobSummaries"] == []
    ours.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
