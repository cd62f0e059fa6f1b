"""TuningJobCompletionCriteria: a tuning job ends Completed once it has what it needs.

Through the application layer on SQLite and PostgreSQL with a hand-moved clock, and end to end
through boto3 and a REST worker.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from amtune.app.claims import Claim
from amtune.app.service import Tuner
from tests.app.requests import sdk_style_request
from tests.service.clients import finish_training_jobs
from tests.service.test_lifecycle import claim as claim_as
from tests.service.test_lifecycle import finish

OBJECTIVE = "validation:accuracy"


def criteria_job(
    tuner: Tuner,
    name: str,
    criteria: dict[str, Any],
    *,
    max_jobs: int = 20,
    parallel: int = 1,
    strategy: str = "Random",
    ranges: dict[str, Any] | None = None,
    objective_type: str = "Maximize",
) -> dict[str, Any]:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    config = request["HyperParameterTuningJobConfig"]
    config.update(
        Strategy=strategy,
        RandomSeed=7,
        ResourceLimits={"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
        TuningJobCompletionCriteria=criteria,
    )
    config["HyperParameterTuningJobObjective"]["Type"] = objective_type
    if ranges is not None:
        config["ParameterRanges"] = ranges
    tuner.create_tuning_job(tuner.default_caller(), request)
    return request


def claim(tuner: Tuner, name: str) -> Claim:
    return claim_as(tuner, name, "w")


def describe(tuner: Tuner, name: str) -> dict[str, Any]:
    return tuner.describe_tuning_job(tuner.default_caller(), name)


def status(tuner: Tuner, name: str) -> str:
    return str(describe(tuner, name)["HyperParameterTuningJobStatus"])


def test_target_reached_completes_and_stops_the_running_jobs(tuner: Tuner) -> None:
    criteria = {"TargetObjectiveMetricValue": 0.9}
    criteria_job(tuner, "target", criteria, parallel=2)
    first, second = claim(tuner, "target"), claim(tuner, "target")
    finish(tuner, first.training_job_name, 0.85)
    assert status(tuner, "target") == "InProgress"
    third = claim(tuner, "target")
    finish(tuner, third.training_job_name, 0.9)  # reaches the target exactly
    described = describe(tuner, "target")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["HyperParameterTuningJobConfig"]["TuningJobCompletionCriteria"] == criteria
    assert described["TuningJobCompletionDetails"] == {
        "NumberOfTrainingJobsObjectiveNotImproving": 0
    }
    # The job still running was told to stop, as a Stop does; its worker hears it.
    caller = tuner.default_caller()
    assert tuner.heartbeat(caller, second.training_job_name, second.lease_token)["StopRequested"]
    finish(tuner, second.training_job_name, 0.99)
    ended = tuner.describe_training_job(caller, second.training_job_name)
    assert ended["TrainingJobStatus"] == "Stopped"
    assert described["TrainingJobStatusCounters"]["Completed"] == 2


def test_target_when_minimising_is_reached_from_above(tuner: Tuner) -> None:
    criteria_job(tuner, "low", {"TargetObjectiveMetricValue": 0.1}, objective_type="Minimize")
    finish(tuner, claim(tuner, "low").training_job_name, 0.2)
    assert status(tuner, "low") == "InProgress"
    finish(tuner, claim(tuner, "low").training_job_name, 0.05)
    assert status(tuner, "low") == "Completed"


def test_best_not_improving_by_one_percent_in_a_row_completes(tuner: Tuner) -> None:
    criteria = {"BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3}}
    criteria_job(tuner, "flat", criteria)
    # 0.6 improves 0.5 by 20 %; 0.603 and 0.605 improve by less than 1 % (they move the best
    # but do not reset the count); a job without an objective neither counts nor resets;
    # 0.4 is worse. 0.7 resets the count; three more that do not improve end the job.
    values = [0.5, 0.6, 0.603, None, 0.605, 0.7, 0.69, 0.705, 0.1]
    seen = []
    for value in values:
        assert status(tuner, "flat") == "InProgress"
        finish(tuner, claim(tuner, "flat").training_job_name, value)
        seen.append(describe(tuner, "flat")["TuningJobCompletionDetails"])
    counts = [d["NumberOfTrainingJobsObjectiveNotImproving"] for d in seen]
    assert counts == [0, 0, 1, 1, 2, 0, 1, 2, 3]
    described = describe(tuner, "flat")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == len(values)
    assert "ConvergenceDetectedTime" not in described["TuningJobCompletionDetails"]


def test_criteria_not_met_run_the_whole_budget(tuner: Tuner) -> None:
    criteria = {
        "TargetObjectiveMetricValue": 2.0,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 3},
    }
    criteria_job(tuner, "budget", criteria, max_jobs=4)
    for value in (0.1, 0.2, 0.3, 0.4):
        finish(tuner, claim(tuner, "budget").training_job_name, value)
    described = describe(tuner, "budget")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 4


ONE_DIMENSION = {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
TWO_DIMENSIONS = {
    "ContinuousParameterRanges": [
        {"Name": f"x{i}", "MinValue": "0", "MaxValue": "1"} for i in range(2)
    ]
}
SIX_DIMENSIONS = {
    "ContinuousParameterRanges": [
        {"Name": f"x{i}", "MinValue": "0", "MaxValue": "1"} for i in range(6)
    ]
}


def parabola(params: dict[str, str]) -> float:
    return 1.0 - (float(params["x"]) - 0.3) ** 2


def bowl(params: dict[str, str]) -> float:
    """Converges: one smooth bowl, its top inside the box."""
    return 1.0 - (float(params["x0"]) - 0.3) ** 2 - (float(params["x1"]) - 0.6) ** 2


def ackley(params: dict[str, str]) -> float:
    """Does not converge in 30 jobs: six dimensions of ripples (negated: maximised)."""
    x = [float(params[f"x{i}"]) * 10 - 3 for i in range(6)]
    mean_square = sum(t * t for t in x) / 6
    mean_cos = sum(math.cos(2 * math.pi * t) for t in x) / 6
    return -(-20 * math.exp(-0.2 * math.sqrt(mean_square)) - math.exp(mean_cos) + 20 + math.e)


def run(tuner: Tuner, name: str, objective: Any) -> int:
    jobs = 0
    while status(tuner, name) == "InProgress":
        job = claim(tuner, name)
        tuned = {k: v for k, v in job.hyperparameters.items() if k.startswith("x")}
        finish(tuner, job.training_job_name, objective(tuned))
        jobs += 1
    return jobs


CONVERGENCE = {"ConvergenceDetected": {"CompleteOnConvergence": "Enabled"}}


def test_bayesian_converges_on_a_bowl_and_says_when(tuner: Tuner) -> None:
    criteria_job(
        tuner, "bowl", CONVERGENCE, max_jobs=40, strategy="Bayesian", ranges=TWO_DIMENSIONS
    )
    jobs = run(tuner, "bowl", bowl)
    described = describe(tuner, "bowl")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert jobs < 25, jobs
    details = described["TuningJobCompletionDetails"]
    assert details["ConvergenceDetectedTime"] == described["HyperParameterTuningEndTime"]
    best = described["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
    assert best > 0.999


def test_bayesian_does_not_converge_on_ackley_in_thirty_jobs(tuner: Tuner) -> None:
    criteria_job(
        tuner, "ripples", CONVERGENCE, max_jobs=30, strategy="Bayesian", ranges=SIX_DIMENSIONS
    )
    assert run(tuner, "ripples", ackley) == 30
    assert "ConvergenceDetectedTime" not in describe(tuner, "ripples")["TuningJobCompletionDetails"]


def test_random_never_converges_early(tuner: Tuner) -> None:
    criteria_job(tuner, "rand", CONVERGENCE, max_jobs=25, ranges=ONE_DIMENSION)
    assert run(tuner, "rand", parabola) == 25
    assert "ConvergenceDetectedTime" not in describe(tuner, "rand")["TuningJobCompletionDetails"]


def test_completion_criteria_end_to_end_through_boto3_and_a_worker(
    sm: Any, live_server: Any
) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "boto-target"
    criteria = {
        "TargetObjectiveMetricValue": 0.95,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 5},
        "ConvergenceDetected": {"CompleteOnConvergence": "Disabled"},
    }
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Random",
        ResourceLimits={"MaxNumberOfTrainingJobs": 50, "MaxParallelTrainingJobs": 1},
        TuningJobCompletionCriteria=criteria,
    )
    sm.create_hyper_parameter_tuning_job(**request)
    values = iter([0.5, 0.8, 0.96, 0.97])
    finished = finish_training_jobs(
        live_server.url, "boto-target", OBJECTIVE, lambda _params: next(values)
    )
    assert [job.objective for job in finished] == [0.5, 0.8, 0.96]
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="boto-target")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["HyperParameterTuningJobConfig"]["TuningJobCompletionCriteria"] == criteria
    assert described["TuningJobCompletionDetails"] == {
        "NumberOfTrainingJobsObjectiveNotImproving": 0
    }


@pytest.mark.parametrize("limit", [3, 4])
def test_not_improving_end_to_end(sm: Any, live_server: Any, limit: int) -> None:
    name = f"boto-flat-{limit}"
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Random",
        ResourceLimits={"MaxNumberOfTrainingJobs": 30, "MaxParallelTrainingJobs": 1},
        TuningJobCompletionCriteria={
            "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": limit}
        },
    )
    sm.create_hyper_parameter_tuning_job(**request)
    finished = finish_training_jobs(live_server.url, name, OBJECTIVE, lambda _params: 0.5)
    assert len(finished) == limit + 1  # the first sets the best; `limit` more fail to beat it
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    assert described["TuningJobCompletionDetails"]["NumberOfTrainingJobsObjectiveNotImproving"] == (
        limit
    )
