"""Two teams on one service: neither can see, touch or even detect the other's jobs.

Every operation of both faces and of the worker protocol is tried by team B on team A's jobs,
and its answer must be the very answer B gets for a job that does not exist (code, status and
message, with only the name differing). Every List filter and sort is checked to return B's
rows only, paging included, and a NextToken of A's is refused to B.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from amtune.app.teams import NewKey
from tests.app.requests import random_request
from tests.conftest import LiveServer
from tests.teams.signing import bearer, boto3_for

OBJECTIVE = "validation:accuracy"
MISSING_TUNING = "never-existed"
MISSING_TRAINING = "never-existed-001-0badc0de"
FUTURE = 4_102_444_800  # 2100-01-01


#: The lease token of every job claimed in this module, so that B can try A's own token.
TOKENS: dict[str, str] = {}


def leased(job: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"LeaseToken": TOKENS.get(job, "never-claimed"), **body}


class Rest:
    """Plain HTTP with the bearer form: the REST face and the worker protocol."""

    def __init__(self, url: str, key: NewKey) -> None:
        self.http = httpx.Client(base_url=url, headers=bearer(key), timeout=30)

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return self.http.request(method, path, json=body, params=params or None)

    def claim(self, tuning_job: str, worker: str) -> str:
        response = self.call("POST", f"/v1/tuning-jobs/{tuning_job}/claims", {"WorkerId": worker})
        assert response.status_code == 200, response.text
        name: str = response.json()["TrainingJobName"]
        TOKENS[name] = response.json()["LeaseToken"]
        return name

    def finish(self, job: str, value: float, worker: str) -> None:
        metrics = leased(job, {"Metrics": [{"MetricName": OBJECTIVE, "Value": value}]})
        assert self.call("POST", f"/v1/training-jobs/{job}/metrics", metrics).status_code == 200
        done = self.call("POST", f"/v1/training-jobs/{job}/complete", leased(job, {}))
        assert done.status_code == 200, done.text


@dataclass
class World:
    a: NewKey
    b: NewKey
    sm_a: Any
    sm_b: Any
    rest_a: Rest
    rest_b: Rest
    a_running: str  # A's training job in progress (in A's "a-only")
    a_done: str  # A's completed training job (in A's "resnet-sweep")
    b_jobs: set[str]  # B's training jobs


@pytest.fixture(scope="module")
def world(server: LiveServer, team_a: NewKey, team_b: NewKey) -> World:
    sm_a, sm_b = boto3_for(server.url, team_a), boto3_for(server.url, team_b)
    rest_a, rest_b = Rest(server.url, team_a), Rest(server.url, team_b)
    for name, max_jobs, parallel in (
        ("resnet-sweep", 4, 2),
        ("a-only", 2, 1),
        ("a-stopped", 2, 1),
        ("a-taken", 2, 1),
    ):
        sm_a.create_hyper_parameter_tuning_job(**random_request(name, max_jobs, parallel))
    sm_a.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="a-stopped")
    sm_b.create_hyper_parameter_tuning_job(**random_request("resnet-sweep", 4, 2))
    sm_b.create_hyper_parameter_tuning_job(**random_request("b-own", 2, 1))

    a_done = rest_a.claim("resnet-sweep", "w-a")
    rest_a.finish(a_done, 0.9, "w-a")
    rest_a.claim("resnet-sweep", "w-a")
    a_running = rest_a.claim("a-only", "w-a")
    b_first = rest_b.claim("resnet-sweep", "w-b")
    rest_b.finish(b_first, 0.4, "w-b")
    b_second = rest_b.claim("resnet-sweep", "w-b")
    return World(team_a, team_b, sm_a, sm_b, rest_a, rest_b, a_running, a_done, {b_first, b_second})


# --- answers compared with a missing job's --------------------------------------------------
def aws_outcome(call: Callable[[], Any]) -> tuple[str, str, int]:
    try:
        call()
    except ClientError as exc:
        error = exc.response["Error"]
        return error["Code"], error["Message"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("the call succeeded")


def assert_aws_same_as_missing(call: Callable[[str], Any], existing: str, missing: str) -> None:
    seen = aws_outcome(lambda: call(existing))
    expected = aws_outcome(lambda: call(missing))
    assert seen == (expected[0], expected[1].replace(missing, existing), expected[2])


def rest_outcome(response: httpx.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["__type"], body["message"]


def assert_rest_same_as_missing(
    call: Callable[[str], httpx.Response], existing: str, missing: str
) -> None:
    seen = rest_outcome(call(existing))
    status, code, message = rest_outcome(call(missing))
    assert status in (400, 404)
    assert seen == (status, code, message.replace(missing, existing))


AWS_TUNING_OPS: dict[str, Callable[[Any, str], Any]] = {
    "DescribeHyperParameterTuningJob": lambda sm, n: sm.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=n
    ),
    "StopHyperParameterTuningJob": lambda sm, n: sm.stop_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=n
    ),
    "DeleteHyperParameterTuningJob": lambda sm, n: sm.delete_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=n
    ),
    "ListTrainingJobsForHyperParameterTuningJob": lambda sm, n: (
        sm.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=n)
    ),
}
AWS_TRAINING_OPS: dict[str, Callable[[Any, str], Any]] = {
    "DescribeTrainingJob": lambda sm, n: sm.describe_training_job(TrainingJobName=n),
    "StopTrainingJob": lambda sm, n: sm.stop_training_job(TrainingJobName=n),
}


@pytest.mark.parametrize("operation", sorted(AWS_TUNING_OPS))
@pytest.mark.parametrize("target", ["a-only", "a-stopped"])
def test_aws_tuning_job_operations_on_another_teams_job(
    world: World, operation: str, target: str
) -> None:
    op = AWS_TUNING_OPS[operation]
    assert_aws_same_as_missing(lambda n: op(world.sm_b, n), target, MISSING_TUNING)
    code, _, _ = aws_outcome(lambda: op(world.sm_b, target))
    assert code == "ResourceNotFound"


@pytest.mark.parametrize("operation", sorted(AWS_TRAINING_OPS))
@pytest.mark.parametrize("which", ["running", "done"])
def test_aws_training_job_operations_on_another_teams_job(
    world: World, operation: str, which: str
) -> None:
    op = AWS_TRAINING_OPS[operation]
    target = world.a_running if which == "running" else world.a_done
    assert_aws_same_as_missing(lambda n: op(world.sm_b, n), target, MISSING_TRAINING)
    code, _, _ = aws_outcome(lambda: op(world.sm_b, target))
    assert code == "ValidationException"


def test_list_tags_on_another_teams_arns(world: World) -> None:
    region_account = f"arn:aws:sagemaker:us-east-1:{world.a.account_id}"

    def list_tags(kind: str, resource_name: str) -> object:
        return world.sm_b.list_tags(ResourceArn=f"{region_account}:{kind}/{resource_name}")

    for kind, name, missing in (
        ("hyper-parameter-tuning-job", "a-only", MISSING_TUNING),
        ("training-job", world.a_running, MISSING_TRAINING),
    ):
        assert_aws_same_as_missing(partial(list_tags, kind), name, missing)


REST_TUNING_ROUTES: dict[str, Callable[[Rest, str], httpx.Response]] = {
    "describe": lambda r, n: r.call("GET", f"/v1/tuning-jobs/{n}"),
    "stop": lambda r, n: r.call("POST", f"/v1/tuning-jobs/{n}/stop"),
    "delete": lambda r, n: r.call("DELETE", f"/v1/tuning-jobs/{n}"),
    "training-jobs": lambda r, n: r.call("GET", f"/v1/tuning-jobs/{n}/training-jobs"),
    "claims": lambda r, n: r.call("POST", f"/v1/tuning-jobs/{n}/claims", {"WorkerId": "w-a"}),
}
REST_TRAINING_ROUTES: dict[str, Callable[[Rest, str], httpx.Response]] = {
    "describe": lambda r, n: r.call("GET", f"/v1/training-jobs/{n}"),
    "metric-history": lambda r, n: r.call("GET", f"/v1/training-jobs/{n}/metrics"),
    "stop": lambda r, n: r.call("POST", f"/v1/training-jobs/{n}/stop"),
    # The worker protocol, even with A's own worker's lease token.
    "heartbeat": lambda r, n: r.call("POST", f"/v1/training-jobs/{n}/heartbeat", leased(n, {})),
    "metrics": lambda r, n: r.call(
        "POST",
        f"/v1/training-jobs/{n}/metrics",
        leased(n, {"Metrics": [{"MetricName": OBJECTIVE, "Value": 1.0}]}),
    ),
    "complete": lambda r, n: r.call("POST", f"/v1/training-jobs/{n}/complete", leased(n, {})),
    "fail": lambda r, n: r.call(
        "POST",
        f"/v1/training-jobs/{n}/fail",
        leased(n, {"FailureReason": "x", "Retryable": False}),
    ),
}


@pytest.mark.parametrize("route", sorted(REST_TUNING_ROUTES))
@pytest.mark.parametrize("target", ["a-only", "a-stopped"])
def test_rest_tuning_job_routes_on_another_teams_job(world: World, route: str, target: str) -> None:
    call = REST_TUNING_ROUTES[route]
    assert_rest_same_as_missing(lambda n: call(world.rest_b, n), target, MISSING_TUNING)
    assert call(world.rest_b, target).status_code == 404


@pytest.mark.parametrize("route", sorted(REST_TRAINING_ROUTES))
@pytest.mark.parametrize("which", ["running", "done"])
def test_rest_and_worker_routes_on_another_teams_training_job(
    world: World, route: str, which: str
) -> None:
    call = REST_TRAINING_ROUTES[route]
    target = world.a_running if which == "running" else world.a_done
    assert_rest_same_as_missing(lambda n: call(world.rest_b, n), target, MISSING_TRAINING)
    assert call(world.rest_b, target).status_code == 404


# --- lists: filters, sorts and pages ----------------------------------------------------------
def pages(fetch: Callable[..., dict[str, Any]], key: str, **request: Any) -> Iterator[Any]:
    token = None
    while True:
        page = fetch(**request, **({"NextToken": token} if token else {}))
        yield from page[key]
        token = page.get("NextToken")
        if not token:
            return


# Filters both List operations take alike.
TIME_AND_SORT_FILTERS: list[dict[str, Any]] = [
    {"CreationTimeAfter": 0},
    {"CreationTimeBefore": FUTURE},
    {"LastModifiedTimeAfter": 0},
    {"LastModifiedTimeBefore": FUTURE},
    *[
        {"SortBy": by, "SortOrder": order}
        for by in ("Name", "CreationTime", "Status")
        for order in ("Ascending", "Descending")
    ],
]

TUNING_FILTERS: list[dict[str, Any]] = [
    {},
    {"NameContains": "a-"},
    {"NameContains": "sweep"},
    {"NameContains": "only"},
    {"StatusEquals": "InProgress"},
    {"StatusEquals": "Stopped"},
    {"StatusEquals": "Stopping"},
    {"StatusEquals": "Completed"},
    *TIME_AND_SORT_FILTERS,
]


@pytest.mark.parametrize("request_filter", TUNING_FILTERS, ids=str)
def test_list_tuning_jobs_shows_only_the_callers(
    world: World, request_filter: dict[str, Any]
) -> None:
    whole = world.sm_b.list_hyper_parameter_tuning_jobs(**request_filter, MaxResults=100)
    summaries = whole["HyperParameterTuningJobSummaries"]
    paged = list(
        pages(
            world.sm_b.list_hyper_parameter_tuning_jobs,
            "HyperParameterTuningJobSummaries",
            **request_filter,
            MaxResults=1,
        )
    )
    assert [s["HyperParameterTuningJobArn"] for s in paged] == [
        s["HyperParameterTuningJobArn"] for s in summaries
    ]
    for summary in summaries:
        assert summary["HyperParameterTuningJobArn"].split(":")[4] == world.b.account_id
        assert summary["HyperParameterTuningJobName"] in {"resnet-sweep", "b-own", "a-taken"}
    rest = world.rest_b.call("GET", "/v1/tuning-jobs", **request_filter, MaxResults=100)
    assert rest.status_code == 200, rest.text
    assert [
        s["HyperParameterTuningJobArn"] for s in rest.json()["HyperParameterTuningJobSummaries"]
    ] == [s["HyperParameterTuningJobArn"] for s in summaries]


TRAINING_FILTERS: list[dict[str, Any]] = [
    {},
    {"NameContains": "resnet"},
    {"NameContains": "a-only"},
    {"StatusEquals": "InProgress"},
    {"StatusEquals": "Completed"},
    *TIME_AND_SORT_FILTERS,
]


@pytest.mark.parametrize("request_filter", TRAINING_FILTERS, ids=str)
def test_list_training_jobs_shows_only_the_callers(
    world: World, request_filter: dict[str, Any]
) -> None:
    summaries = world.sm_b.list_training_jobs(**request_filter, MaxResults=100)[
        "TrainingJobSummaries"
    ]
    paged = list(
        pages(world.sm_b.list_training_jobs, "TrainingJobSummaries", **request_filter, MaxResults=1)
    )
    assert [s["TrainingJobArn"] for s in paged] == [s["TrainingJobArn"] for s in summaries]
    assert {s["TrainingJobName"] for s in summaries} <= world.b_jobs
    for summary in summaries:
        assert summary["TrainingJobArn"].split(":")[4] == world.b.account_id
    rest = world.rest_b.call("GET", "/v1/training-jobs", **request_filter, MaxResults=100)
    assert [s["TrainingJobArn"] for s in rest.json()["TrainingJobSummaries"]] == [
        s["TrainingJobArn"] for s in summaries
    ]
    if not request_filter or request_filter.get("CreationTimeAfter") == 0:
        assert {s["TrainingJobName"] for s in summaries} == world.b_jobs


@pytest.mark.parametrize(
    "request_filter",
    [
        {},
        {"StatusEquals": "InProgress"},
        {"StatusEquals": "Completed"},
        *[
            {"SortBy": by, "SortOrder": order}
            for by in ("Name", "CreationTime", "Status", "FinalObjectiveMetricValue")
            for order in ("Ascending", "Descending")
        ],
    ],
    ids=str,
)
def test_same_named_tuning_jobs_list_their_own_training_jobs(
    world: World, request_filter: dict[str, Any]
) -> None:
    fetch = world.sm_b.list_training_jobs_for_hyper_parameter_tuning_job
    request = {"HyperParameterTuningJobName": "resnet-sweep", **request_filter}
    summaries = fetch(**request, MaxResults=100)["TrainingJobSummaries"]
    paged = list(pages(fetch, "TrainingJobSummaries", **request, MaxResults=1))
    assert [s["TrainingJobName"] for s in paged] == [s["TrainingJobName"] for s in summaries]
    assert {s["TrainingJobName"] for s in summaries} <= world.b_jobs
    for summary in summaries:
        assert summary["TrainingJobArn"].split(":")[4] == world.b.account_id
    if not request_filter:
        assert {s["TrainingJobName"] for s in summaries} == world.b_jobs


def test_same_named_tuning_jobs_describe_their_own(world: World) -> None:
    mine = world.sm_b.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="resnet-sweep"
    )
    theirs = world.sm_a.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="resnet-sweep"
    )
    assert mine["HyperParameterTuningJobArn"].split(":")[4] == world.b.account_id
    assert theirs["HyperParameterTuningJobArn"].split(":")[4] == world.a.account_id
    assert mine["BestTrainingJob"]["TrainingJobName"] in world.b_jobs
    assert theirs["BestTrainingJob"]["TrainingJobName"] == world.a_done
    assert mine["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 0.4


def test_a_next_token_of_another_team_is_refused(world: World) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("list_hyper_parameter_tuning_jobs", {}, "/v1/tuning-jobs"),
        ("list_training_jobs", {}, "/v1/training-jobs"),
        (
            "list_training_jobs_for_hyper_parameter_tuning_job",
            {"HyperParameterTuningJobName": "resnet-sweep"},
            "/v1/tuning-jobs/resnet-sweep/training-jobs",
        ),
    ]
    for method, request, path in cases:
        token = getattr(world.sm_a, method)(**request, MaxResults=1)["NextToken"]
        code, message, status = aws_outcome(
            partial(getattr(world.sm_b, method), **request, MaxResults=1, NextToken=token)
        )
        assert (code, status) == ("ValidationException", 400)
        assert "pagination token" in message
        query = {k: v for k, v in request.items() if k != "HyperParameterTuningJobName"}
        rest = world.rest_b.call("GET", path, **query, MaxResults=1, NextToken=token)
        assert (rest.status_code, rest.json()["__type"]) == (400, "ValidationException")


def test_nothing_b_did_changed_as_jobs(world: World) -> None:
    """Every stop, delete, claim and report B sent at A's jobs left them as they were."""
    a_only = world.sm_a.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="a-only")
    assert a_only["HyperParameterTuningJobStatus"] == "InProgress"
    assert a_only["TrainingJobStatusCounters"]["InProgress"] == 1
    running = world.sm_a.describe_training_job(TrainingJobName=world.a_running)
    assert running["TrainingJobStatus"] == "InProgress"
    assert "FinalMetricDataList" not in running or not running["FinalMetricDataList"]
    heartbeat = world.rest_a.call(
        "POST", f"/v1/training-jobs/{world.a_running}/heartbeat", leased(world.a_running, {})
    )
    assert heartbeat.json()["StopRequested"] is False
    stopped = world.sm_a.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="a-stopped"
    )
    assert stopped["HyperParameterTuningJobStatus"] == "Stopped"
    done = world.sm_a.describe_training_job(TrainingJobName=world.a_done)
    assert done["FinalMetricDataList"][0]["Value"] == 0.9


def test_names_are_unique_per_team_only(world: World) -> None:
    arn = world.sm_b.create_hyper_parameter_tuning_job(**random_request("a-taken", 2, 1))[
        "HyperParameterTuningJobArn"
    ]
    assert arn.split(":")[4] == world.b.account_id
    again = aws_outcome(
        lambda: world.sm_a.create_hyper_parameter_tuning_job(**random_request("a-taken", 2, 1))
    )
    assert again[0] == "ResourceInUse"
