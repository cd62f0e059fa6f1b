"""Bayesian claims through the service: spread under parallel workers, reproducible from the
store alone (a second replica, or a restarted one, suggests the same configs)."""

from __future__ import annotations

import math
from typing import Any

from amtune.app.claims import Claim
from amtune.app.service import Tuner
from tests.app.requests import sdk_style_request

OBJECTIVE = "validation:accuracy"


def bayesian_job(tuner: Tuner, name: str, max_jobs: int, parallel: int) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    request["HyperParameterTuningJobConfig"].update(
        Strategy="Bayesian",
        RandomSeed=3,
        ResourceLimits={"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": parallel},
    )
    tuner.create_tuning_job(tuner.default_caller(), request)


def accuracy(params: dict[str, str]) -> float:
    """A smooth made-up objective with its peak inside the ranges."""
    eta, subsample = float(params["eta"]), float(params["subsample"])
    depth = int(params["max_depth"])
    bonus = 0.05 if params["booster"] == "dart" else 0.0
    return (
        0.9
        - (math.log(eta / 0.1)) ** 2 / 10
        - (subsample - 0.8) ** 2
        - (depth - 6) ** 2 / 100
        + bonus
    )


def claim(tuner: Tuner, name: str) -> Claim:
    outcome = tuner.claim(tuner.default_caller(), name, "w")
    assert isinstance(outcome, Claim), outcome
    return outcome


def run(tuner: Tuner, name: str, jobs: int, batch: int) -> list[dict[str, Any]]:
    caller = tuner.default_caller()
    seen: list[dict[str, Any]] = []
    while len(seen) < jobs:
        claimed = [claim(tuner, name) for _ in range(min(batch, jobs - len(seen)))]
        for job in claimed:
            tuned = {
                k: v
                for k, v in job.hyperparameters.items()
                if k in ("eta", "subsample", "max_depth", "booster")
            }
            seen.append(tuned)
            value = accuracy(tuned)
            metrics = [{"MetricName": OBJECTIVE, "Value": value}]
            tuner.report_metrics(caller, job.training_job_name, job.lease_token, metrics)
            tuner.complete(caller, job.training_job_name, job.lease_token)
    return seen


def test_parallel_claims_get_distinct_configs(tuner: Tuner) -> None:
    bayesian_job(tuner, "spread", max_jobs=24, parallel=8)
    configs = run(tuner, "spread", jobs=24, batch=8)
    assert len({tuple(sorted(c.items())) for c in configs}) == 24
    described = tuner.describe_tuning_job(tuner.default_caller(), "spread")
    assert described["HyperParameterTuningJobStatus"] == "Completed"
    assert described["TrainingJobStatusCounters"]["Completed"] == 24


def test_a_second_replica_suggests_what_the_first_would(tuner: Tuner, settings: Any) -> None:
    """Two tuning jobs with the same seed and the same results, each served by its own
    Tuner (its own engine, caches and database connections): the same configs come out."""
    first = run(tuner, _job(tuner, "replica-a"), jobs=14, batch=2)
    other = Tuner(settings, db=tuner.db, clock=tuner.ctx.clock)
    second = run(other, _job(other, "replica-b"), jobs=14, batch=2)
    assert first == second


def _job(tuner: Tuner, name: str) -> str:
    bayesian_job(tuner, name, max_jobs=14, parallel=2)
    return name


def test_concurrent_claims_of_one_process_compute_each_suggestion_once(
    tuner: Tuner, monkeypatch: Any
) -> None:
    """Eight workers claim at once from one Bayesian tuning job past its initial design: every
    claim gets a job, the configs are distinct, and the GP ran once per claim. Without turns,
    all eight fitted from the same history and seven fits were thrown away, round after round,
    until a claim could answer 503."""
    from concurrent.futures import ThreadPoolExecutor

    from amtune.engine.strategies.bayesian import BayesianStrategy

    bayesian_job(tuner, "turns", max_jobs=30, parallel=8)
    run(tuner, "turns", jobs=12, batch=4)  # past the initial design: the GP suggests from now on
    suggest = BayesianStrategy.suggest_scored
    calls: list[int] = []

    def counted(self: BayesianStrategy, *args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return suggest(self, *args, **kwargs)

    monkeypatch.setattr(BayesianStrategy, "suggest_scored", counted)
    with ThreadPoolExecutor(max_workers=8) as pool:
        claims = list(pool.map(lambda _: claim(tuner, "turns"), range(8)))
    configs = {tuple(sorted(c.hyperparameters.items())) for c in claims}
    assert len(configs) == 8
    assert len(calls) == 8
