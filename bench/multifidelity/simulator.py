"""Asynchronous workers over simulated time: every step of every job costs one time unit.

Each of ``workers`` workers claims a configuration, reports its curve one step at a time, and
after each report the method's stopping rule answers continue or stop (as amtune answers
``StopRequested`` on a metrics report). A job ends when it is stopped or reaches the maximum
resource; its worker then claims the next configuration at once, while the other workers are
mid-job, so every suggestion is made with ``workers - 1`` jobs pending, as in a tuning job with
``MaxParallelTrainingJobs = workers``. Ties in time go to the lower worker number, so a run is a
deterministic function of the method and its seed.

A run ends when ``step_budget`` steps have been spent (the job in flight at that moment stops
there) or, with ``job_limit``, when that many jobs have been claimed and all have ended.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from amtune.engine.spaces import Config

from .problems import Problem


@dataclass
class Job:
    """One training job: its configuration, true curve and what it has reported so far."""

    number: int
    config: Config
    truth: np.ndarray
    reported: list[tuple[float, float]] = field(default_factory=list)
    ended: bool = False
    stopped: bool = False

    @property
    def curve(self) -> tuple[tuple[float, float], ...]:
        return tuple(self.reported)

    @property
    def last(self) -> float | None:
        return self.reported[-1][1] if self.reported else None


class Method(Protocol):
    """A search plus a stopping rule, driven one event at a time."""

    def ask(self, jobs: list[Job]) -> Config | None:
        """The next configuration, given every job so far (ended and running), or None."""
        ...

    def should_stop(self, job: Job, jobs: list[Job]) -> bool:
        """After ``job`` reported its latest step: stop it now?"""
        ...

    def ended(self, job: Job, jobs: list[Job]) -> None:
        """``job`` ended (stopped, completed, or cut by the budget)."""
        ...


@dataclass
class Trace:
    """A run's record: after each ended job, the steps spent and the best final objective."""

    steps: list[int] = field(default_factory=list)
    best: list[float] = field(default_factory=list)
    total_steps: int = 0
    jobs: int = 0
    completed: int = 0

    def best_at(self, steps: float) -> float:
        """The best final objective of jobs ended within ``steps`` steps (inf if none)."""
        i = int(np.searchsorted(self.steps, steps, side="right"))
        return self.best[i - 1] if i > 0 else float("inf")

    def steps_to(self, target: float) -> float:
        """Steps spent when the best final objective first reached ``target`` (inf: never)."""
        for s, b in zip(self.steps, self.best, strict=True):
            if b <= target:
                return float(s)
        return float("inf")


def simulate(
    problem: Problem,
    method: Method,
    *,
    workers: int = 4,
    step_budget: int | None = None,
    job_limit: int | None = None,
) -> Trace:
    if step_budget is None and job_limit is None:
        raise ValueError("give step_budget or job_limit")
    jobs: list[Job] = []
    trace = Trace()
    best = float("inf")
    events: list[tuple[float, int]] = []
    current: dict[int, Job] = {}

    def claim(worker: int, now: float) -> None:
        if job_limit is not None and len(jobs) >= job_limit:
            return
        config = method.ask(jobs)
        if config is None:
            return
        job = Job(len(jobs), config, problem.curve(config))
        jobs.append(job)
        current[worker] = job
        heapq.heappush(events, (now + 1.0, worker))

    def end(job: Job, stopped: bool) -> None:
        nonlocal best
        job.ended, job.stopped = True, stopped
        trace.jobs = len(jobs)
        if not stopped:
            trace.completed += 1
        if job.last is not None:
            best = min(best, job.last)
        trace.steps.append(trace.total_steps)
        trace.best.append(best)
        method.ended(job, jobs)

    for w in range(workers):
        claim(w, 0.0)
    while events:
        now, w = heapq.heappop(events)
        job = current.pop(w)
        step = len(job.reported) + 1
        job.reported.append((float(step), float(job.truth[step - 1])))
        trace.total_steps += 1
        out_of_budget = step_budget is not None and trace.total_steps >= step_budget
        if step >= problem.max_resource:
            end(job, stopped=False)
        elif method.should_stop(job, jobs) or out_of_budget:
            end(job, stopped=True)
        else:
            current[w] = job
            heapq.heappush(events, (now + 1.0, w))
            continue
        if out_of_budget:
            break
        claim(w, now)
    trace.jobs = len(jobs)
    return trace
