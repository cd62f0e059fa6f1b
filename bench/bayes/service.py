"""End to end: score a running amtune service with the same problems and the same scorer.

The engine benchmark calls strategies in-process; this mode proves the service gives the same
quality through everything in between (AWS JSON face, store, claim flow, leases). For each
problem and seed it creates a tuning job with boto3 exactly as a user would, then runs N worker
threads that speak the REST worker protocol (``POST /v1/tuning-jobs/{name}/claims``, evaluate,
``POST /v1/training-jobs/{name}/complete`` with ``FinalMetricDataList``) until the service answers
409 ``TuningJobNotInProgress``. The losses, ordered by claim order (the order in which the service
created the training jobs), form a curve the scorer treats like any other run with batch = N.

Written against the contract in docs/ARCHITECTURE.md and issue 2; see bench/README.md for
whether it has been exercised against a live service.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

from .problems import Problem, get_problem
from .runner import RunResult, RunSpec

ACCOUNT = "123456789012"
RETRY_CAP_S = 1.0  # honour Retry-After, but poll at least this often so runs stay short


def sagemaker_client(endpoint: str) -> Any:
    """boto3's SageMaker client for a bench service (its open team: any credentials sign)."""
    import boto3

    return boto3.client(
        "sagemaker",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def training_job_definition(image: str, metric: str) -> dict[str, Any]:
    """A TrainingJobDefinition SageMaker would accept; the service uses the metric's name, and
    stores and echoes the rest."""
    return {
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": metric, "Regex": f"{metric}=([-0-9.eE+]+)"}],
        },
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/amtune-bench",
        "OutputDataConfig": {"S3OutputPath": "s3://amtune-bench/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "StaticHyperParameters": {},
    }


def create_job(
    endpoint: str,
    problem: Problem,
    *,
    name: str,
    n_evals: int,
    workers: int,
    seed: int,
    strategy: str,
) -> None:
    """CreateHyperParameterTuningJob for ``problem`` (a request real SageMaker would accept)."""
    metric = problem.metric_name
    sagemaker_client(endpoint).create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig={
            "Strategy": strategy,
            "HyperParameterTuningJobObjective": {
                "Type": "Maximize" if problem.maximize else "Minimize",
                "MetricName": metric,
            },
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": n_evals,
                "MaxParallelTrainingJobs": workers,
            },
            "ParameterRanges": problem.parameter_ranges,
            "TrainingJobEarlyStoppingType": "Off",
            "RandomSeed": seed,
        },
        TrainingJobDefinition=training_job_definition("amtune/bench-objective:latest", metric),
    )


def run_service_job(
    endpoint: str,
    problem: Problem,
    *,
    n_evals: int = 128,
    workers: int = 8,
    seed: int = 0,
    strategy: str = "Bayesian",
    name: str | None = None,
    timeout_s: float = 3600.0,
) -> list[float]:
    """Create a tuning job for ``problem`` and work it to completion with ``workers`` threads.

    Returns the losses (to minimise) in claim order; ``best_so_far`` of it is the curve.
    Raises ``RuntimeError`` if a worker meets an unexpected answer or the job overruns.
    """
    import httpx

    job = name or f"bench-{problem.name.replace('_', '-')[:30]}-{seed}-{uuid.uuid4().hex[:6]}"
    job = job.replace(".", "-")[:32]
    create_job(
        endpoint, problem, name=job, n_evals=n_evals, workers=workers, seed=seed, strategy=strategy
    )
    tuned = {
        spec["Name"]
        for key in (
            "IntegerParameterRanges",
            "ContinuousParameterRanges",
            "CategoricalParameterRanges",
        )
        for spec in problem.parameter_ranges.get(key, [])
    }
    lock = threading.Lock()
    claimed: list[tuple[int, float]] = []
    counter = [0]
    errors: list[str] = []
    deadline = time.monotonic() + timeout_s
    base = endpoint.rstrip("/")

    def worker(worker_id: str) -> None:
        with httpx.Client(timeout=60.0) as http:
            while time.monotonic() < deadline and not errors:
                r = http.post(f"{base}/v1/tuning-jobs/{job}/claims", json={"WorkerId": worker_id})
                if r.status_code == 409:
                    return  # TuningJobNotInProgress: the job is done
                if r.status_code == 204:
                    wait = float(r.headers.get("Retry-After", "1") or 1)
                    time.sleep(min(max(wait, 0.05), RETRY_CAP_S))
                    continue
                if r.status_code != 200:
                    errors.append(f"claim: HTTP {r.status_code} {r.text[:200]}")
                    return
                claim = r.json()
                with lock:
                    seq = counter[0]
                    counter[0] += 1
                config = {k: v for k, v in claim["HyperParameters"].items() if k in tuned}
                value = _metric(problem, config)
                training_job = claim["TrainingJobName"]
                if math.isfinite(value):
                    body = {
                        "LeaseToken": claim["LeaseToken"],
                        "FinalMetricDataList": [
                            {
                                "MetricName": problem.metric_name,
                                "Value": value,
                                "Timestamp": time.time(),
                            }
                        ],
                    }
                    r = http.post(f"{base}/v1/training-jobs/{training_job}/complete", json=body)
                else:
                    body2 = {
                        "LeaseToken": claim["LeaseToken"],
                        "FailureReason": "objective was not finite",
                        "Retryable": False,
                    }
                    r = http.post(f"{base}/v1/training-jobs/{training_job}/fail", json=body2)
                if r.status_code != 200:
                    errors.append(f"report: HTTP {r.status_code} {r.text[:200]}")
                    return
                loss = (
                    problem.loss(config)
                    if not math.isfinite(value)
                    else (-value if problem.maximize else value)
                )
                with lock:
                    claimed.append((seq, loss))

    threads = [
        threading.Thread(target=worker, args=(f"bench-{i}",), daemon=True) for i in range(workers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 5.0)
    if errors:
        raise RuntimeError(f"tuning job {job}: " + "; ".join(errors[:3]))
    if any(t.is_alive() for t in threads):
        raise RuntimeError(f"tuning job {job} did not finish within {timeout_s} s")
    return [loss for _, loss in sorted(claimed)]


def _metric(problem: Problem, config: dict[str, str]) -> float:
    """The metric in its own direction (the service applies Maximize itself)."""
    try:
        value = float(problem.objective(config))
    except (ArithmeticError, ValueError):
        return math.nan
    return value


def run_service_suite(
    endpoint: str,
    problems: Sequence[str],
    seeds: Sequence[int],
    n_evals: int,
    workers: int,
) -> tuple[list[RunResult], str]:
    """Every problem x seed through the service, as ``amtune-service`` runs with batch=workers.

    Always Strategy=Bayesian: a service that refuses it is an error in the run, never a reason
    to score another strategy under this name."""
    results: list[RunResult] = []
    strategy = "Bayesian"
    for problem_name in problems:
        problem = get_problem(problem_name)
        for seed in seeds:
            spec = RunSpec(f"service-{strategy.lower()}", problem_name, seed, workers, n_evals)
            res = RunResult(spec=spec)
            start = time.perf_counter()
            try:
                res.losses = run_service_job(
                    endpoint,
                    problem,
                    n_evals=n_evals,
                    workers=workers,
                    seed=seed,
                    strategy=strategy,
                )
            except Exception as exc:  # report, keep going
                res.error = repr(exc)
            res.wall_s = time.perf_counter() - start
            res.cpu_s = math.nan  # the work happens in the service, not in this process
            results.append(res)
    note = (
        f"End to end through the service at {endpoint} with {workers} worker threads, "
        f"Strategy={strategy}."
    )
    return results, note
