"""Metric history, early stopping (TrainingJobEarlyStoppingType=Auto) and Hyperband over the
REST protocol.

Workers here are plain HTTP clients reporting one objective value per step, as a training
script printing a metric per epoch does through ``amtune worker``.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.app.requests import sdk_style_request
from tests.conftest import LiveServer
from tests.service.protocol import RestWorker

OBJECTIVE = "validation:accuracy"  # Maximize


def create(
    server: LiveServer,
    name: str,
    *,
    strategy: str = "Random",
    max_jobs: int = 8,
    parallel: int = 1,
    early_stopping: str = "Auto",
) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    request["HyperParameterTuningJobConfig"].update(
        Strategy=strategy,
        TrainingJobEarlyStoppingType=early_stopping,
        ResourceLimits={"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
    )
    response = httpx.post(server.url + "/v1/tuning-jobs", json=request)
    assert response.status_code == 201, response.text


def report(worker: RestWorker, job: str, points: list[tuple[str, float, int]]) -> httpx.Response:
    metrics = [{"MetricName": m, "Value": v, "Step": s} for m, v, s in points]
    body = worker.leased(job, {"Metrics": metrics})
    return worker.http.post(f"/v1/training-jobs/{job}/metrics", json=body)


def history(server: LiveServer, job: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{server.url}/v1/training-jobs/{job}/metrics", params=params)


def run_curve(worker: RestWorker, tuning_job: str, curve: list[float]) -> tuple[str, list[bool]]:
    """Claim a job, report ``curve`` one step at a time, complete it; StopRequested answers."""
    job = worker.claim_job(tuning_job)["TrainingJobName"]
    answers = []
    for step, value in enumerate(curve, start=1):
        response = report(worker, job, [(OBJECTIVE, value, step)])
        assert response.status_code == 200, response.text
        answers.append(response.json()["StopRequested"])
    assert worker.complete(job).status_code == 200
    return job, answers


def test_metric_history_is_readable_paged_and_filtered(live_server: LiveServer) -> None:
    create(live_server, "curves", early_stopping="Off")
    worker = RestWorker(live_server.url)
    job = worker.claim_job("curves")["TrainingJobName"]
    for step in (1, 2, 3):
        points = [(OBJECTIVE, step / 10, step), ("train:loss", 1 / step, step)]
        assert report(worker, job, points).status_code == 200
    worker.http.post(
        f"/v1/training-jobs/{job}/metrics",
        json=worker.leased(
            job, {"Metrics": [{"MetricName": "lr", "Value": 0.1, "Timestamp": 1_700_000_000.5}]}
        ),
    )

    everything = history(live_server, job).json()
    assert "NextToken" not in everything
    assert [(p["MetricName"], p["Value"], p.get("Step")) for p in everything["Metrics"]] == [
        (OBJECTIVE, 0.1, 1),
        ("train:loss", 1.0, 1),
        (OBJECTIVE, 0.2, 2),
        ("train:loss", 0.5, 2),
        (OBJECTIVE, 0.3, 3),
        ("train:loss", 1 / 3, 3),
        ("lr", 0.1, None),
    ]
    assert everything["Metrics"][-1]["Timestamp"] == 1_700_000_000.5
    assert all(isinstance(p["Timestamp"], float) for p in everything["Metrics"])

    pages, token = [], None
    while True:
        params: dict[str, Any] = {"MetricName": "train:loss", "MaxResults": 2}
        if token:
            params["NextToken"] = token
        page = history(live_server, job, **params).json()
        pages.append([p["Step"] for p in page["Metrics"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [[1, 2], [3]]

    # A token is bound to its query: another metric's paging refuses it.
    first = history(live_server, job, MetricName="train:loss", MaxResults=1).json()
    foreign = history(live_server, job, MetricName=OBJECTIVE, NextToken=first["NextToken"])
    assert foreign.status_code == 400 and foreign.json()["__type"] == "ValidationException"
    # A job that does not exist answers as Describe does.
    missing = history(live_server, "curves-999-00000000")
    described = httpx.get(f"{live_server.url}/v1/training-jobs/curves-999-00000000")
    assert (missing.status_code, missing.json()) == (described.status_code, described.json())
    too_many = history(live_server, job, MaxResults=1001)
    assert too_many.status_code == 400


def test_steps_never_go_back_and_a_refused_report_stores_nothing(live_server: LiveServer) -> None:
    create(live_server, "monotonic", early_stopping="Off")
    worker = RestWorker(live_server.url)
    job = worker.claim_job("monotonic")["TrainingJobName"]
    assert report(worker, job, [(OBJECTIVE, 0.1, 2), ("loss", 1.0, 5)]).status_code == 200
    # Equal steps are fine (non-decreasing), as are points without a step.
    assert report(worker, job, [(OBJECTIVE, 0.15, 2)]).status_code == 200

    within = report(worker, job, [(OBJECTIVE, 0.2, 3), ("loss", 0.9, 6), (OBJECTIVE, 0.3, 1)])
    assert within.status_code == 400
    assert within.json()["__type"] == "ValidationException"
    assert "'metrics.3.member.step'" in within.json()["message"]

    stored = report(worker, job, [(OBJECTIVE, 0.2, 3), ("loss", 0.9, 4)])
    assert stored.status_code == 400
    assert "'metrics.2.member.step'" in stored.json()["message"]
    assert "(5)" in stored.json()["message"]

    points = history(live_server, job).json()["Metrics"]
    assert [(p["MetricName"], p["Step"]) for p in points] == [
        (OBJECTIVE, 2),
        ("loss", 5),
        (OBJECTIVE, 2),
    ]
    # The refused reports did not move the objective either.
    assert worker.complete(job).json() == {"TrainingJobStatus": "Completed"}
    described = httpx.get(f"{live_server.url}/v1/training-jobs/{job}").json()
    final = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert final == {OBJECTIVE: 0.15, "loss": 1.0}


GOOD = [0.9, 0.1]  # accuracy per epoch of the first jobs: a good start, a bad finish


def test_median_rule_stops_a_job_below_the_median_and_it_ends_stopped(
    live_server: LiveServer,
) -> None:
    create(live_server, "median", max_jobs=6)
    worker = RestWorker(live_server.url)
    # Three earlier jobs reach step 2 (running averages 0.5) and end with 0.1.
    for _ in range(3):
        _, answers = run_curve(worker, "median", GOOD)
        assert answers == [False, False]  # fewer than 3 earlier jobs: nobody is judged

    job = worker.claim_job("median")["TrainingJobName"]
    first = report(worker, job, [(OBJECTIVE, 0.5, 1)])
    # 0.5 is worse than the median 0.9 of the earlier jobs' running averages at step 1.
    assert first.json() == {"StopRequested": True}
    assert worker.heartbeat(job).json()["StopRequested"] is True
    # A worker that ignores the stop keeps reporting, and keeps hearing it.
    assert report(worker, job, [(OBJECTIVE, 0.6, 2)]).json() == {"StopRequested": True}
    described = httpx.get(f"{live_server.url}/v1/training-jobs/{job}").json()
    assert described["TrainingJobStatus"] == "Stopping"
    assert worker.complete(job).json() == {"TrainingJobStatus": "Stopped"}

    described = httpx.get(f"{live_server.url}/v1/training-jobs/{job}").json()
    assert described["TrainingJobStatus"] == "Stopped"
    assert described["SecondaryStatus"] == "Stopped"
    stopping = [t for t in described["SecondaryStatusTransitions"] if t["Status"] == "Stopping"]
    assert "early stopping" in stopping[0]["StatusMessage"]
    tuning = httpx.get(f"{live_server.url}/v1/tuning-jobs/median").json()
    assert tuning["TrainingJobStatusCounters"]["Stopped"] == 1
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 3
    # It keeps its last objective value, which beats the others' final 0.1.
    assert tuning["BestTrainingJob"]["TrainingJobName"] == job
    assert tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 0.6
    assert tuning["BestTrainingJob"]["TrainingJobStatus"] == "Stopped"

    # Its slot is free: the next job starts at once (MaxParallelTrainingJobs is 1).
    following = worker.claim_job("median")["TrainingJobName"]
    # Best so far at step 1 (0.95 > 0.9): never stopped, even though ...
    assert report(worker, following, [(OBJECTIVE, 0.95, 1)]).json()["StopRequested"] is False
    # ... at step 2 a value just above the median running average (0.5) is not stopped either.
    assert report(worker, following, [(OBJECTIVE, 0.55, 2)]).json()["StopRequested"] is False
    assert worker.complete(following).json() == {"TrainingJobStatus": "Completed"}


def test_the_median_rule_waits_for_a_tenth_of_the_longest_earlier_curve(
    live_server: LiveServer,
) -> None:
    create(live_server, "progress", max_jobs=5)
    worker = RestWorker(live_server.url)
    for _ in range(3):
        run_curve(worker, "progress", [0.9] * 20)  # 20 epochs each
    job = worker.claim_job("progress")["TrainingJobName"]
    # Far below the median at step 1, but step 1 is under a tenth of 20 epochs: not judged.
    assert report(worker, job, [(OBJECTIVE, 0.2, 1)]).json()["StopRequested"] is False
    # Step 2 is a tenth: judged, and stopped.
    assert report(worker, job, [(OBJECTIVE, 0.2, 2)]).json()["StopRequested"] is True
    assert worker.complete(job).json() == {"TrainingJobStatus": "Stopped"}


def test_without_early_stopping_nobody_is_stopped(live_server: LiveServer) -> None:
    create(live_server, "no-stop", max_jobs=5, early_stopping="Off")
    worker = RestWorker(live_server.url)
    for _ in range(3):
        run_curve(worker, "no-stop", GOOD)
    job, answers = run_curve(worker, "no-stop", [0.01, 0.02])
    assert answers == [False, False]
    described = httpx.get(f"{live_server.url}/v1/training-jobs/{job}").json()
    assert described["TrainingJobStatus"] == "Completed"


@pytest.mark.parametrize("strategy", ["Bayesian", "Grid"])
def test_early_stopping_works_with_every_strategy(live_server: LiveServer, strategy: str) -> None:
    request = sdk_style_request()
    name = f"auto-{strategy.lower()}"
    request["HyperParameterTuningJobName"] = name
    config = request["HyperParameterTuningJobConfig"]
    config.update(
        Strategy=strategy,
        TrainingJobEarlyStoppingType="Auto",
        ResourceLimits={"MaxNumberOfTrainingJobs": 6, "MaxParallelTrainingJobs": 1},
    )
    if strategy == "Grid":
        del config["ResourceLimits"]["MaxNumberOfTrainingJobs"]
        config["ParameterRanges"] = {
            "CategoricalParameterRanges": [{"Name": "booster", "Values": list("abcdef")}]
        }
    response = httpx.post(live_server.url + "/v1/tuning-jobs", json=request)
    assert response.status_code == 201, response.text
    worker = RestWorker(live_server.url)
    for _ in range(3):
        run_curve(worker, name, [0.8, 0.9])
    job, answers = run_curve(worker, name, [0.1, 0.2])
    assert answers == [True, True]
    described = httpx.get(f"{live_server.url}/v1/training-jobs/{job}").json()
    assert described["TrainingJobStatus"] == "Stopped"


def create_hyperband(
    server: LiveServer, name: str, parallel: int, max_jobs: int = 8, **hyperband: int
) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    config = request["HyperParameterTuningJobConfig"]
    config.update(
        Strategy="Hyperband",
        ResourceLimits={"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
    )
    if hyperband:
        config["StrategyConfig"] = {"HyperbandStrategyConfig": hyperband}
    else:
        request["TrainingJobDefinition"]["StaticHyperParameters"]["epochs"] = "4"
    response = httpx.post(server.url + "/v1/tuning-jobs", json=request)
    assert response.status_code == 201, response.text


def claim_together(
    server: LiveServer, tuning_job: str, n: int
) -> list[tuple[RestWorker, dict[str, Any]]]:
    """n workers claim at the same moment, as parallel workers of one tuning job do."""
    workers = [RestWorker(server.url, f"w{i}") for i in range(n)]
    with ThreadPoolExecutor(n) as pool:
        jobs = list(pool.map(lambda w: w.claim_job(tuning_job), workers))
    return list(zip(workers, jobs, strict=True))


def test_hyperband_stops_at_rungs_and_ends_jobs_at_max_resource(live_server: LiveServer) -> None:
    create_hyperband(live_server, "asha", parallel=3, MinResource=1, MaxResource=9)  # rungs 1 3 9
    claimed = claim_together(live_server, "asha", 3)
    configs = {json.dumps(job["HyperParameters"], sort_keys=True) for _, job in claimed}
    assert len(configs) == 3  # parallel workers get distinct configurations
    # In job-number order (the name carries it): brackets 0, 1, 0 of three (rungs from 1, 3, 9).
    (w1, j1), (w2, j2), (w3, j3) = sorted(
        ((w, job["TrainingJobName"]) for w, job in claimed), key=lambda pair: pair[1]
    )

    def at(worker: RestWorker, job: str, value: float, step: int) -> bool:
        response = report(worker, job, [(OBJECTIVE, value, step)])
        assert response.status_code == 200, response.text
        answer: bool = response.json()["StopRequested"]
        return answer

    # Rung 1: nobody waits for it to fill; the first passes (grace), the second is in a bracket
    # judged from rung 3 on, the third is ranked against both.
    assert at(w1, j1, 0.9, 1) is False
    assert at(w2, j2, 0.8, 1) is False
    assert at(w3, j3, 0.1, 1) is True  # last of 3: not in the top third
    assert w3.heartbeat(j3).json()["StopRequested"] is True
    assert w3.complete(j3).json() == {"TrainingJobStatus": "Stopped"}

    # Its slot is free at once; a better newcomer passes rung 1.
    w4 = RestWorker(live_server.url, "w4")
    j4 = w4.claim_job("asha")["TrainingJobName"]
    assert at(w4, j4, 0.95, 1) is False
    # Between rungs nobody is judged; rung 3 has one job so far.
    assert at(w1, j1, 0.91, 2) is False
    assert at(w1, j1, 0.92, 3) is False
    assert at(w2, j2, 0.5, 2) is False
    for step in range(4, 9):
        assert at(w1, j1, 0.93, step) is False
    # At MaxResource the job is told to stop, and its objective is final: it ends Completed.
    assert at(w1, j1, 0.94, 9) is True
    assert w1.complete(j1).json() == {"TrainingJobStatus": "Completed"}
    described = httpx.get(f"{live_server.url}/v1/training-jobs/{j1}").json()
    assert described["TrainingJobStatus"] == "Completed"
    messages = [t["StatusMessage"] for t in described["SecondaryStatusTransitions"]]
    assert any(m.startswith("Reached MaxResource") for m in messages)

    tuning = httpx.get(f"{live_server.url}/v1/tuning-jobs/asha").json()
    assert tuning["TrainingJobStatusCounters"]["Stopped"] == 1
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 1
    assert tuning["BestTrainingJob"]["TrainingJobName"] == j1
    assert tuning["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == 0.94


def test_hyperband_brackets_judge_later_jobs_from_higher_rungs_and_never_the_last(
    live_server: LiveServer,
) -> None:
    create_hyperband(live_server, "brackets", parallel=1, max_jobs=6, MinResource=1, MaxResource=9)
    worker = RestWorker(live_server.url)
    # Jobs 1-3 (brackets 0, 1, 0) train well to MaxResource and end Completed.
    for _ in range(3):
        _, answers = run_curve(worker, "brackets", [0.9] * 9)
        assert answers == [False] * 8 + [True]
    # Job 4 is in the last bracket: the worst at rungs 1 and 3, yet never stopped early.
    job, answers = run_curve(worker, "brackets", [0.1] * 9)
    assert answers == [False] * 8 + [True]
    described = httpx.get(f"{live_server.url}/v1/training-jobs/{job}").json()
    assert described["TrainingJobStatus"] == "Completed"
    # Job 5 (bracket 1) is first judged at rung 3; job 6 (bracket 0) at rung 1.
    job, answers = run_curve(worker, "brackets", [0.1] * 3)
    assert answers == [False, False, True]
    job, answers = run_curve(worker, "brackets", [0.1])
    assert answers == [True]
    tuning = httpx.get(f"{live_server.url}/v1/tuning-jobs/brackets").json()
    assert tuning["TrainingJobStatusCounters"]["Stopped"] == 2
    assert tuning["TrainingJobStatusCounters"]["Completed"] == 4


def test_hyperband_takes_max_resource_from_epochs(live_server: LiveServer) -> None:
    create_hyperband(live_server, "epochs", parallel=1, max_jobs=2)  # epochs=4: rungs 1 3 4
    worker = RestWorker(live_server.url)
    job = worker.claim_job("epochs")["TrainingJobName"]
    answers = [
        report(worker, job, [(OBJECTIVE, 0.5, s)]).json()["StopRequested"] for s in (1, 2, 3, 4)
    ]
    assert answers == [False, False, False, True]
    assert worker.complete(job).json() == {"TrainingJobStatus": "Completed"}


def test_a_batched_report_is_judged_at_every_step_it_passed(live_server: LiveServer) -> None:
    create(live_server, "batched", max_jobs=5)
    worker = RestWorker(live_server.url)
    for _ in range(3):
        run_curve(worker, "batched", GOOD)
    job = worker.claim_job("batched")["TrainingJobName"]
    # Below the median at step 1, best of all at step 2: the stop at step 1 still counts.
    answer = report(worker, job, [(OBJECTIVE, 0.5, 1), (OBJECTIVE, 0.95, 2)])
    assert answer.json() == {"StopRequested": True}


def test_a_retried_job_starts_its_learning_curve_again(live_server: LiveServer) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "retried"
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Random",
        ResourceLimits={"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
    )
    request["TrainingJobDefinition"]["RetryStrategy"] = {"MaximumRetryAttempts": 1}
    assert httpx.post(live_server.url + "/v1/tuning-jobs", json=request).status_code == 201
    worker = RestWorker(live_server.url)
    job = worker.claim_job("retried")["TrainingJobName"]
    assert report(worker, job, [(OBJECTIVE, 0.5, 5)]).status_code == 200
    assert worker.fail(job, "spot instance lost", retryable=True).status_code == 200
    assert worker.claim_job("retried")["TrainingJobName"] == job
    # The new attempt's epoch 1 is not "going back": the failed attempt's points are gone.
    assert report(worker, job, [(OBJECTIVE, 0.6, 1)]).status_code == 200
    points = history(live_server, job).json()["Metrics"]
    assert [(p["Step"], p["Value"]) for p in points] == [(1, 0.6)]
