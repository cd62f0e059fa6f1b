"""Syne Tune's ASHA and MOBSTER as peers, driven through its scheduler API by the same simulator.

* ``synetune-asha``: ``syne_tune.optimizer.baselines.ASHA``: asynchronous successive halving,
  random configurations, ``type="stopping"``, grace period 1, reduction factor 3, ``max_t`` 27
  (rungs 1, 3, 9), one bracket: the settings of ``amtune-asha-random``.
* ``synetune-mobster``: ``syne_tune.optimizer.baselines.MOBSTER``: the same scheduler with its
  Gaussian-process searcher over (configuration, resource) (``searcher="bayesopt"``, Syne Tune's
  default model and acquisition).

The simulator's events map onto Syne Tune's ``Tuner`` loop: ``ask`` is ``suggest`` then
``on_trial_add``; every report but the last goes to ``on_trial_result``, whose ``STOP`` answer is
the stop (followed by ``on_trial_remove``, as the Tuner does); a job that reaches the maximum
resource sends its last report to ``on_trial_result`` then ``on_trial_complete``. Configurations
are drawn from the problem's AMT ranges translated one to one (linear / log /
reverse-log continuous, linear / log integer, categorical), and handed back as AMT strings.

Syne Tune is not a dependency of the project: version 0.13.0 is the last whose
``HyperbandScheduler`` has MOBSTER's GP searcher (0.14 kept it as ``legacy_*``, 0.15 removed it)
and it is installed apart, ``--no-deps`` (bench/MULTIFIDELITY.md). It is imported through
``importlib`` so that this module type-checks and imports without it; asking for a method
without it gives :class:`SyneTuneMissing`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from amtune.engine.spaces import CategoricalRange, Config, ContinuousRange, IntegerRange

from .problems import Problem
from .simulator import Job, Method

VERSION = "0.13.0"
METRIC = "objective"
RESOURCE = "epoch"
GRACE = 1
REDUCTION_FACTOR = 3
_CREATED = datetime(2026, 1, 1)  # Trial.creation_time; never read by the schedulers used here
_MISSING = (
    f"synetune-asha / synetune-mobster need syne-tune=={VERSION} and autograd, installed apart "
    "(see bench/MULTIFIDELITY.md, Commands)"
)


class SyneTuneMissing(ImportError):
    """Syne Tune (the version this module drives) is not importable."""


def synetune_missing() -> str | None:
    """Why the Syne Tune methods cannot run here (one line), or None if they can."""
    try:
        syne_tune = importlib.import_module("syne_tune")
        importlib.import_module("autograd")
    except ImportError:
        return _MISSING
    version = str(getattr(syne_tune, "__version__", "?"))
    if version != VERSION:
        return f"{_MISSING}; found syne-tune {version}"
    return None


def _syne_tune() -> tuple[Any, Any, Any, Any]:
    """Syne Tune's ``baselines``, ``config_space``, ``Trial`` and ``SchedulerDecision``."""
    reason = synetune_missing()
    if reason is not None:
        raise SyneTuneMissing(reason)
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # syne_tune imports sagemaker
    baselines = importlib.import_module("syne_tune.optimizer.baselines")
    space = importlib.import_module("syne_tune.config_space")
    trial = importlib.import_module("syne_tune.backend.trial_status").Trial
    decision = importlib.import_module("syne_tune.optimizer.scheduler").SchedulerDecision
    return baselines, space, trial, decision


def config_space(problem: Problem, cs: Any) -> dict[str, Any]:
    """The problem's AMT ranges as a Syne Tune config space (``cs``: ``syne_tune.config_space``)."""
    out: dict[str, Any] = {}
    for r in problem.space.ranges:
        if isinstance(r, ContinuousRange):
            make = {
                "Linear": cs.uniform,
                "Logarithmic": cs.loguniform,
                "ReverseLogarithmic": cs.reverseloguniform,
            }[r.scaling]
            out[r.name] = make(r.low, r.high)
        elif isinstance(r, IntegerRange):
            if r.scaling == "ReverseLogarithmic":
                raise ValueError(f"{r.name}: Syne Tune has no reverse-log integer domain")
            make = cs.lograndint if r.scaling == "Logarithmic" else cs.randint
            out[r.name] = make(r.low, r.high)
        elif isinstance(r, CategoricalRange):
            out[r.name] = cs.choice(list(r.values))
    return out


def _amt(problem: Problem, config: dict[str, Any]) -> Config:
    """A Syne Tune configuration as AMT's hyperparameter strings."""
    out: Config = {}
    for r in problem.space.ranges:
        value = config[r.name]
        if isinstance(r, ContinuousRange):
            out[r.name] = repr(float(value))
        elif isinstance(r, IntegerRange):
            out[r.name] = str(int(value))
        else:
            out[r.name] = str(value)
    return out


class SyneTuneMethod:
    """One Syne Tune scheduler (``"ASHA"`` or ``"MOBSTER"``) behind the simulator's protocol."""

    def __init__(self, problem: Problem, scheduler: str, seed: int) -> None:
        baselines, cs, self._trial_cls, decision = _syne_tune()
        self._stop = decision.STOP
        self.problem = problem
        self.scheduler: Any = getattr(baselines, scheduler)(
            config_space(problem, cs),
            metric=METRIC,
            mode="min",
            resource_attr=RESOURCE,
            max_t=problem.max_resource,
            grace_period=GRACE,
            reduction_factor=REDUCTION_FACTOR,
            type="stopping",
            random_seed=seed,
        )
        self.trials: dict[int, Any] = {}

    def _result(self, job: Job) -> dict[str, Any]:
        step, value = job.reported[-1]
        return {METRIC: value, RESOURCE: int(step)}

    def ask(self, jobs: list[Job]) -> Config | None:
        number = len(jobs)
        suggestion = self.scheduler.suggest(trial_id=number)
        if suggestion is None:
            return None
        config = dict(suggestion.config)
        trial = self._trial_cls(trial_id=number, config=config, creation_time=_CREATED)
        self.scheduler.on_trial_add(trial=trial)
        self.trials[number] = trial
        return _amt(self.problem, config)

    def should_stop(self, job: Job, jobs: list[Job]) -> bool:
        trial = self.trials[job.number]
        decision = self.scheduler.on_trial_result(trial=trial, result=self._result(job))
        if decision == self._stop:
            self.scheduler.on_trial_remove(trial=trial)
            return True
        return False

    def ended(self, job: Job, jobs: list[Job]) -> None:
        trial = self.trials.pop(job.number)
        if job.stopped:  # by this scheduler (removed then), or by the budget (the run ends)
            return
        result = self._result(job)
        if self.scheduler.on_trial_result(trial=trial, result=result) == self._stop:
            self.scheduler.on_trial_remove(trial=trial)
        else:
            self.scheduler.on_trial_complete(trial=trial, result=result)


SYNETUNE_METHODS: dict[str, Callable[[Problem, int], Method]] = {
    "synetune-asha": lambda p, s: SyneTuneMethod(p, "ASHA", s),
    "synetune-mobster": lambda p, s: SyneTuneMethod(p, "MOBSTER", s),
}
