"""Simulated workers: claim, a few metric reports, complete; paced, or as fast as answered.

All workers run as asyncio tasks in one process on one ``aiohttp`` session per service URL.
aiohttp's client costs about a fifth of httpx's CPU per request here (0.17 ms against 0.87 ms,
measured side by side), and on a 2-core machine every millisecond the generator burns is
taken from the service it measures. The generator records its own CPU time so a report can
say how much of the machine it took.

Pacing: with ``rate`` (operations per second over all workers), each worker sends its
operations on a fixed schedule, as a real worker spaces its reports by training time, and a
latency is measured from the moment the operation was *due*, not from when it was sent: a
service that falls behind cannot hide it by slowing the generator down (coordinated
omission). Without ``rate`` each worker sends its next request as soon as the last is answered.

Every request is timed per operation. A status the protocol does not allow at that point is an
error; a training job handed out twice is a duplicate. Both must be zero for a run to pass.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx

AWS_JSON = "application/x-amz-json-1.1"
OPERATIONS = ("claim", "metrics", "complete")


@dataclass(frozen=True)
class Target:
    """One tuning job on one service endpoint."""

    url: str
    tuning_job: str
    #: ``Bearer <AccessKeyId>:<SecretAccessKey>`` of the team that owns the job, once teams exist.
    authorization: str | None = None


@dataclass
class LoadResult:
    started: float = 0.0
    elapsed: float = 0.0
    #: Seconds of load asked for; the workers then finish the jobs in hand.
    duration: float | None = None
    #: Seconds of load before ``duration`` whose answers are not measured (errors still count).
    warmup: float = 0.0
    #: Every answer, the warm-up's included: what the service's CPU time is divided by.
    answered_total: int = 0
    #: When each answer arrived, in seconds since the run began.
    answered_at: list[float] = field(default_factory=list)
    #: Operations per second the workers were paced at (None: as fast as answered).
    offered_rate: float | None = None
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    waits: int = 0
    duplicates: int = 0
    generator_cpu_seconds: float = 0.0

    @property
    def operations(self) -> int:
        """Answered worker requests: claims (200 or 204), metric reports, completions."""
        return sum(len(v) for v in self.latencies.values())

    @property
    def throughput(self) -> float:
        """Answers per second while the load ran: the wind-down after ``duration``, when the
        workers only finish the jobs in hand, would otherwise dilute the figure."""
        if self.duration:
            return sum(t <= self.duration for t in self.answered_at) / self.duration
        return self.operations / self.elapsed if self.elapsed else 0.0

    def percentiles(self, operation: str) -> dict[str, float]:
        values = sorted(self.latencies.get(operation, []))
        if not values:
            return {}

        def at(q: float) -> float:
            return values[min(len(values) - 1, int(q * len(values)))] * 1000

        return {
            "count": len(values),
            "p50_ms": round(at(0.50), 2),
            "p90_ms": round(at(0.90), 2),
            "p99_ms": round(at(0.99), 2),
            "max_ms": round(values[-1] * 1000, 2),
        }

    @property
    def passed(self) -> bool:
        return not self.errors and self.duplicates == 0

    def summary(self) -> dict[str, Any]:
        return {
            "elapsed_s": round(self.elapsed, 2),
            "warmup_s": self.warmup,
            "offered_operations_per_s": self.offered_rate,
            "operations": self.operations,
            "operations_per_s": round(self.throughput, 1),
            "claims_granted": len(self.claimed),
            "claims_waited_204": self.waits,
            "completed": len(self.completed),
            "duplicates": self.duplicates,
            "errors": len(self.errors),
            "error_samples": self.errors[:10],
            "generator_cpu_s": round(self.generator_cpu_seconds, 2),
            "generator_cpu_share": round(self.generator_cpu_seconds / self.elapsed, 2)
            if self.elapsed
            else 0.0,
            "latency": {op: self.percentiles(op) for op in OPERATIONS},
            "passed": self.passed,
        }


@dataclass
class _Answer:
    status: int
    body: bytes
    retry_after: float


class _Run:
    def __init__(
        self,
        result: LoadResult,
        reports: int,
        deadline: float | None,
        interval: float | None,
        warmup: float = 0.0,
    ) -> None:
        self.result = result
        self.reports = reports
        self.deadline = deadline
        #: Seconds between one worker's operations when paced.
        self.interval = interval
        self.seen: set[tuple[str, str]] = set()
        self.began = time.perf_counter()
        #: Operations due (paced) or sent (unpaced) before this are the warm-up's.
        self.measured_from = self.began + warmup

    async def timed(
        self,
        session: aiohttp.ClientSession,
        target: Target,
        operation: str,
        path: str,
        body: dict[str, Any],
        due: float,
    ) -> _Answer | None:
        headers = {"Content-Type": "application/json"}
        if target.authorization:
            headers["Authorization"] = target.authorization
        if self.interval is not None:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        sent = time.perf_counter()
        try:
            async with session.post(path, data=json.dumps(body), headers=headers) as response:
                answer = _Answer(
                    response.status,
                    await response.read(),
                    float(response.headers.get("Retry-After", "1")),
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.result.errors.append(f"{operation} {path}: {type(exc).__name__}: {exc}")
            return None
        # Paced: from when the operation was due, so a backlog shows as latency.
        started = min(due, sent) if self.interval is not None else sent
        answered = time.perf_counter()
        self.result.answered_total += 1
        if started >= self.measured_from:
            self.result.latencies[operation].append(answered - started)
            self.result.answered_at.append(answered - self.measured_from)
            self.result.statuses[f"{operation} {answer.status}"] += 1
        return answer

    def error(self, operation: str, answer: _Answer) -> None:
        self.result.errors.append(f"{operation}: {answer.status} {answer.body[:200]!r}")

    def running(self) -> bool:
        return self.deadline is None or time.monotonic() < self.deadline

    async def worker(
        self, session: aiohttp.ClientSession, target: Target, worker_id: str, phase: float
    ) -> None:
        rng = random.Random(worker_id)
        claim_path = f"/v1/tuning-jobs/{target.tuning_job}/claims"
        clock = _Schedule(time.perf_counter() + phase, self.interval)
        while self.running():
            answer = await self.timed(
                session, target, "claim", claim_path, {"WorkerId": worker_id}, clock.next()
            )
            if answer is None:
                return
            if answer.status == 409 and self.deadline is None:
                return  # the tuning job is over: this worker's work is done
            if answer.status == 204:
                self.result.waits += 1
                await asyncio.sleep(answer.retry_after)
                clock.restart()
                continue
            if answer.status != 200:
                self.error("claim", answer)
                return
            job = json.loads(answer.body)
            name = job["TrainingJobName"]
            key = (target.url, name)
            if key in self.seen:
                self.result.duplicates += 1
            self.seen.add(key)
            self.result.claimed.append(name)
            metric = job["HyperParameters"]["_tuning_objective_metric"]
            token = job["LeaseToken"]
            if not await self.train(session, target, name, metric, token, rng, clock):
                return

    async def train(
        self,
        session: aiohttp.ClientSession,
        target: Target,
        name: str,
        metric: str,
        lease_token: str,
        rng: random.Random,
        clock: _Schedule,
    ) -> bool:
        base = f"/v1/training-jobs/{name}"
        for step in range(self.reports):
            body = {
                "LeaseToken": lease_token,
                "Metrics": [{"MetricName": metric, "Value": rng.random(), "Step": step}],
            }
            answer = await self.timed(
                session, target, "metrics", base + "/metrics", body, clock.next()
            )
            if answer is None:
                return False
            if answer.status != 200:
                self.error("metrics", answer)
                return False
        answer = await self.timed(
            session,
            target,
            "complete",
            base + "/complete",
            {"LeaseToken": lease_token},
            clock.next(),
        )
        if answer is None:
            return False
        if answer.status != 200:
            self.error("complete", answer)
            return False
        self.result.completed.append(name)
        return True


class _Schedule:
    """When a paced worker's next operation is due: every ``interval`` seconds from ``start``."""

    def __init__(self, start: float, interval: float | None) -> None:
        self.interval = interval
        self.due = start

    def next(self) -> float:
        due = self.due
        if self.interval is not None:
            self.due += self.interval
        return due

    def restart(self) -> None:
        """After a 204 the worker waited as told: its schedule resumes from now."""
        self.due = time.perf_counter()


async def run_load(
    targets: list[Target],
    workers: int,
    *,
    duration: float | None,
    reports: int = 3,
    rate: float | None = None,
    timeout: float = 30.0,
    warmup: float = 0.0,
) -> LoadResult:
    """Run ``workers`` simulated workers spread round-robin over ``targets``.

    With a ``duration`` each worker stops claiming when it is up (finishing the job in hand);
    without one, each works until its tuning job is over (409 on claim). With a ``rate`` the
    workers together are paced at that many operations per second, their phases spread evenly.
    With a ``warmup`` the load runs that many seconds longer first, unmeasured: a service just
    started opens its connections and fills its caches then, and on a fresh database the first
    claims of every tuning job collide (``bench/LOAD_RESULTS.md``).
    """
    result = LoadResult(offered_rate=rate, duration=duration, warmup=warmup)
    cpu_start = time.process_time()
    result.started = time.time()
    start = time.monotonic()
    interval = workers / rate if rate else None
    deadline = start + warmup + duration if duration is not None else None
    run = _Run(result, reports, deadline, interval, warmup)
    # Idle connections are dropped well before uvicorn's 5 s default would close them, so a
    # request is never sent on a connection the server is closing at that instant.
    sessions = {
        url: aiohttp.ClientSession(
            base_url=url,
            connector=aiohttp.TCPConnector(limit=workers, keepalive_timeout=2.0),
            timeout=aiohttp.ClientTimeout(total=timeout),
        )
        for url in {t.url for t in targets}
    }
    try:
        tasks = [
            run.worker(
                sessions[targets[i % len(targets)].url],
                targets[i % len(targets)],
                f"w{i}",
                phase=(interval or 0.0) * i / workers,
            )
            for i in range(workers)
        ]
        await asyncio.gather(*tasks)
    finally:
        for session in sessions.values():
            await session.close()
    result.elapsed = time.monotonic() - start
    result.generator_cpu_seconds = time.process_time() - cpu_start
    return result


# --- tuning jobs for the load ---------------------------------------------------------------


def random_tuning_job(name: str, max_jobs: int, max_parallel: int) -> dict[str, Any]:
    """A Random-strategy CreateHyperParameterTuningJob with three ranges, as a user writes it."""
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": max_jobs,
                "MaxParallelTrainingJobs": max_parallel,
            },
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {
                        "Name": "lr",
                        "MinValue": "0.0001",
                        "MaxValue": "0.1",
                        "ScalingType": "Logarithmic",
                    }
                ],
                "IntegerParameterRanges": [{"Name": "layers", "MinValue": "1", "MaxValue": "8"}],
                "CategoricalParameterRanges": [{"Name": "act", "Values": ["relu", "gelu"]}],
            },
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"epochs": "3"},
            "AlgorithmSpecification": {
                "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/load:latest",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([0-9.]+)"}],
            },
            "RoleArn": "arn:aws:iam::123456789012:role/Load",
            "OutputDataConfig": {"S3OutputPath": "s3://load/out"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }


def aws_call(url: str, operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """One AWS JSON 1.1 call; raises on an error answer."""
    response = httpx.post(
        url.rstrip("/") + "/",
        content=json.dumps(body),
        headers={"X-Amz-Target": f"SageMaker.{operation}", "Content-Type": AWS_JSON},
        timeout=60,
    )
    if response.status_code != 200:
        raise RuntimeError(f"{operation}: {response.status_code} {response.text}")
    answer: dict[str, Any] = response.json()
    return answer


def training_jobs_of(url: str, tuning_job: str) -> list[dict[str, Any]]:
    """Every training job summary of a tuning job, following NextToken to the end."""
    summaries: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        body: dict[str, Any] = {"HyperParameterTuningJobName": tuning_job, "MaxResults": 100}
        if token:
            body["NextToken"] = token
        page = aws_call(url, "ListTrainingJobsForHyperParameterTuningJob", body)
        summaries.extend(page["TrainingJobSummaries"])
        token = page.get("NextToken")
        if not token:
            return summaries
