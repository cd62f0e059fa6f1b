"""The multi-fidelity benchmark through a live ``amtune serve``: 4 real asynchronous workers.

The in-process benchmark (:mod:`.simulator`) calls the engine and the stopping rules as the
service does, on a simulated clock. This mode runs the same problems through everything in
between: a real ``amtune serve`` process (SQLite in a temporary directory), a tuning job created
with boto3 as a user creates it, and ``workers`` threads that speak the worker protocol through
the project's Python client (:class:`amtune.sdk.protocol.WorkerProtocol`): claim a training job,
decode its hyperparameters into the problem's configuration, and report the objective of its
learning curve one ``Step`` at a time until the service answers ``StopRequested`` (or the curve
ends), then complete it. Each step also takes ``step_seconds`` of wall time, the "training", so
the workers are genuinely asynchronous: which report the service judges first, and which
history a claim sees, depends on timing, not on a simulated clock.

The report is synchronous (``put_metrics`` returns the answer), so a job spends exactly the
steps it reported, as in process. Steps are counted under one lock as they are taken: the
budget run stops at exactly ``step_budget`` steps; the worker that takes the last one calls
StopHyperParameterTuningJob, and the jobs then in flight end Stopped with their last value
(they count for BestTrainingJob, as AMT counts them; in process, the jobs in flight at the
budget are dropped). The job-limited run (``step_budget=None``) lets the tuning job end by
itself at MaxNumberOfTrainingJobs.

Results are read back through the API: ListTrainingJobsForHyperParameterTuningJob (status and
FinalHyperParameterTuningJobObjectiveMetric of every job), the metric history of every job
(``GET /v1/training-jobs/{name}/metrics``) and DescribeHyperParameterTuningJob's
BestTrainingJob. They become a :class:`~.simulator.Trace` (jobs in the order they ended, with
the steps spent by then, counted by the workers), which the in-process scoring reads as is.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bayes.service import sagemaker_client, training_job_definition
from bench.processes import serving
from tests.service.processes import free_port

from amtune.sdk.client import SageMakerClient
from amtune.sdk.errors import TuningJobEnded
from amtune.sdk.protocol import Metric, Wait, WorkerProtocol

from .problems import Problem
from .simulator import Trace

METRIC = "loss"
MAX_JOBS = 750
"""MaxNumberOfTrainingJobs of a budget run: the service's limit for Bayesian and Hyperband, far
above what a budget of 864 steps pays for (the step budget ends the run, not this)."""

SETTINGS: dict[str, dict[str, Any]] = {
    "amtune-hyperband": {
        "Strategy": "Hyperband",
        "TrainingJobEarlyStoppingType": "Off",
        "hyperband": True,
    },
    "amtune-bayesian-auto": {"Strategy": "Bayesian", "TrainingJobEarlyStoppingType": "Auto"},
    "amtune-bayesian": {"Strategy": "Bayesian", "TrainingJobEarlyStoppingType": "Off"},
    "amtune-random": {"Strategy": "Random", "TrainingJobEarlyStoppingType": "Off"},
}
"""The in-process methods a user can ask the service for, as HyperParameterTuningJobConfig."""


@dataclass
class ServiceRun:
    """One tuning job worked to its end, as the API reports it."""

    name: str
    trace: Trace
    statuses: dict[str, str]
    """Training job name -> TrainingJobStatus."""
    steps_by_worker: list[int]
    """Steps each worker took, counted as it took them."""
    reported_points: int
    """Metric points of the objective in the service's history, over every training job."""
    best_described: float | None
    """DescribeHyperParameterTuningJob's BestTrainingJob objective value."""
    best_job_described: str | None
    best_jobs_scored: frozenset[str]
    """The ended jobs whose final objective is the trace's best: several when configurations
    share a tabulated curve, and Describe then names the lowest-numbered of them."""
    wall_s: float

    def checks(self) -> dict[str, bool]:
        """What the figures rest on, as the API shows it: every training job ended Stopped or
        Completed; the steps the workers counted are the points the service holds; the best
        job the trace scores is DescribeHyperParameterTuningJob's BestTrainingJob."""
        return {
            "ended_stopped_or_completed": set(self.statuses.values()) <= {"Stopped", "Completed"},
            "steps_counted_equal_points": sum(self.steps_by_worker)
            == self.trace.total_steps
            == self.reported_points,
            "best_job_is_described_best": self.best_job_described in self.best_jobs_scored
            and self.best_described == (self.trace.best[-1] if self.trace.best else None),
        }


@dataclass
class _Shared:
    """What the worker threads of one run share, under ``lock``."""

    step_budget: int | None
    spent: int = 0
    by_worker: list[int] = field(default_factory=list)
    ended: list[tuple[str, int]] = field(default_factory=list)
    """(training job, steps spent when it ended), in the order the jobs ended."""
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopped: threading.Event = field(default_factory=threading.Event)
    """Set once the budget is spent and StopHyperParameterTuningJob has answered."""


@contextmanager
def served() -> Iterator[tuple[str, int]]:
    """``amtune serve`` on a fresh SQLite database; yields its URL and process id."""
    with tempfile.TemporaryDirectory(prefix="amtune-mf-") as scratch:
        port = free_port()
        env = {
            **os.environ,
            "AMTUNE_DATABASE_URL": f"sqlite:///{Path(scratch) / 'amtune.db'}",
            "AMTUNE_PORT": str(port),
            "AMTUNE_LOG_LEVEL": "WARNING",
        }
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "amtune", "serve"]
        with serving(command, env, url + "/readyz", deadline_s=60) as process:
            yield url, process.pid


def create_tuning_job(
    sm: Any, problem: Problem, method: str, *, name: str, seed: int, workers: int, max_jobs: int
) -> None:
    """CreateHyperParameterTuningJob for ``method`` on ``problem``, as a user writes it."""
    setting = SETTINGS[method]
    config: dict[str, Any] = {
        "Strategy": setting["Strategy"],
        "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": METRIC},
        "ResourceLimits": {
            "MaxNumberOfTrainingJobs": max_jobs,
            "MaxParallelTrainingJobs": workers,
        },
        "ParameterRanges": problem.ranges,
        "TrainingJobEarlyStoppingType": setting["TrainingJobEarlyStoppingType"],
        "RandomSeed": seed,
    }
    if setting.get("hyperband"):
        config["StrategyConfig"] = {
            "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": problem.max_resource}
        }
    sm.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name,
        HyperParameterTuningJobConfig=config,
        TrainingJobDefinition=training_job_definition("amtune/bench-multifidelity:latest", METRIC),
    )


def _take_step(shared: _Shared, worker: int) -> tuple[bool, bool]:
    """Spend one step of the budget: (taken, it was the last one)."""
    with shared.lock:
        if shared.step_budget is not None and shared.spent >= shared.step_budget:
            return False, False
        shared.spent += 1
        shared.by_worker[worker] += 1
        return True, shared.spent == shared.step_budget


def _work(
    worker: int,
    endpoint: str,
    tuning_job: str,
    problem: Problem,
    shared: _Shared,
    step_seconds: float,
) -> None:
    """One worker: claim, train step by step, report each step, end the job; until the tuning
    job is over (409 on claim) or the budget is spent."""
    tuned = set(problem.space.names)
    protocol = WorkerProtocol(endpoint)
    sm = sagemaker_client(endpoint)
    try:
        while not shared.stopped.is_set():
            try:
                claim = protocol.claim(tuning_job, f"bench-worker-{worker}")
            except TuningJobEnded:
                return
            if isinstance(claim, Wait):
                shared.stopped.wait(claim.retry_after)  # as the service asks
                continue
            config = {k: v for k, v in claim.hyperparameters.items() if k in tuned}
            curve = problem.curve(config)
            budget_spent = False
            for step in range(1, problem.max_resource + 1):
                taken, last = _take_step(shared, worker)
                if not taken:
                    budget_spent = True
                    break
                time.sleep(step_seconds)  # the simulated training of one step
                point = Metric(METRIC, float(curve[step - 1]), dt.datetime.now(dt.UTC), step)
                stop = protocol.put_metrics(
                    claim.training_job_name, [point], lease_token=claim.lease_token
                )
                if last:
                    try:
                        sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName=tuning_job)
                    finally:
                        shared.stopped.set()
                    break
                if stop:
                    break
            if budget_spent:
                shared.stopped.wait()  # the tuning job is being stopped: this job ends Stopped
            protocol.complete(claim.training_job_name, lease_token=claim.lease_token)
            with shared.lock:
                shared.ended.append((claim.training_job_name, shared.spent))
    except Exception as exc:  # a run with an error is reported, never scored
        with shared.lock:
            shared.errors.append(f"worker {worker}: {type(exc).__name__}: {exc}")
        shared.stopped.set()
    finally:
        protocol.close()


def _wait_until_ended(sm: Any, name: str, timeout_s: float) -> dict[str, Any]:
    """DescribeHyperParameterTuningJob once the tuning job is Completed or Stopped."""
    deadline = time.monotonic() + timeout_s
    while True:
        described: dict[str, Any] = sm.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name
        )
        if described["HyperParameterTuningJobStatus"] in ("Completed", "Stopped", "Failed"):
            return described
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: still {described['HyperParameterTuningJobStatus']}")
        time.sleep(0.05)  # the last Stopping job is being ended by its worker


def run_through_service(
    endpoint: str,
    problem: Problem,
    method: str,
    seed: int,
    *,
    workers: int = 4,
    step_budget: int | None = None,
    job_limit: int | None = None,
    step_seconds: float = 0.002,
    timeout_s: float = 3600.0,
) -> ServiceRun:
    """Create the tuning job, work it with ``workers`` threads, read the result back.

    Give ``step_budget`` (stop the tuning job when that many steps are spent) or ``job_limit``
    (MaxNumberOfTrainingJobs; the tuning job ends by itself)."""
    if (step_budget is None) == (job_limit is None):
        raise ValueError("give exactly one of step_budget and job_limit")
    started = time.monotonic()
    sm = sagemaker_client(endpoint)
    name = f"mf-{method.removeprefix('amtune-')}-{seed}-{uuid.uuid4().hex[:8]}"[:32]
    create_tuning_job(
        sm,
        problem,
        method,
        name=name,
        seed=seed,
        workers=workers,
        max_jobs=job_limit if job_limit is not None else MAX_JOBS,
    )
    shared = _Shared(step_budget=step_budget, by_worker=[0] * workers)
    threads = [
        threading.Thread(
            target=_work,
            args=(i, endpoint, name, problem, shared, step_seconds),
            name=f"bench-worker-{i}",
            daemon=True,
        )
        for i in range(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, started + timeout_s - time.monotonic()))
    if shared.errors:
        raise RuntimeError(f"{name}: " + "; ".join(shared.errors[:3]))
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError(f"{name}: the workers did not finish within {timeout_s} s")
    described = _wait_until_ended(sm, name, timeout_s=60.0)
    return _read_back(endpoint, sm, name, described, shared, time.monotonic() - started)


def _read_back(
    endpoint: str,
    sm: Any,
    name: str,
    described: dict[str, Any],
    shared: _Shared,
    wall_s: float,
) -> ServiceRun:
    summaries: list[dict[str, Any]] = []
    paginator = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    for page in paginator.paginate(HyperParameterTuningJobName=name, MaxResults=100):
        summaries += page["TrainingJobSummaries"]
    statuses = {s["TrainingJobName"]: s["TrainingJobStatus"] for s in summaries}
    finals = {
        s["TrainingJobName"]: float(s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
        for s in summaries
        if "FinalHyperParameterTuningJobObjectiveMetric" in s
    }
    points = 0
    with SageMakerClient(endpoint) as client:
        for job in statuses:
            token: str | None = None
            while True:
                page = client.list_training_job_metrics(
                    TrainingJobName=job, MetricName=METRIC, MaxResults=1000, NextToken=token
                )
                points += len(page["Metrics"])
                token = page.get("NextToken")
                if not token:
                    break
    trace = Trace(total_steps=shared.spent, jobs=len(statuses))
    trace.completed = sum(1 for status in statuses.values() if status == "Completed")
    best = float("inf")
    for job, spent in shared.ended:  # in the order the jobs ended
        value = finals.get(job)
        if value is not None and value < best:
            best = value
        trace.steps.append(spent)
        trace.best.append(best)
    best_training = described.get("BestTrainingJob") or {}
    objective = best_training.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    return ServiceRun(
        name=name,
        trace=trace,
        statuses=statuses,
        steps_by_worker=list(shared.by_worker),
        reported_points=points,
        best_described=float(objective["Value"]) if "Value" in objective else None,
        best_job_described=best_training.get("TrainingJobName"),
        best_jobs_scored=frozenset(job for job, value in finals.items() if value == best),
        wall_s=wall_s,
    )
