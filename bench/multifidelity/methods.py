"""The methods compared: amtune's strategies and stopping rules, and the peers a user would pick.

amtune methods call the engine exactly as the service does: the strategy sees the tuning job's
history (ended jobs with their final objective and curve, running jobs with their curve so far)
and the stopping rules of :mod:`amtune.engine.stopping` decide on each report, with the
service's settings (:mod:`amtune.app.early_stopping`: eta, the rung grace period, the earlier
jobs the median rule needs).

* ``amtune-hyperband``: HyperbandStrategy (its joint GP over configuration and resource) +
  the service's asynchronous Hyperband rule (``hyperband_stops``: rungs ``1, 3, 9, ...`` up to
  the maximum resource, eta 3, one bracket per rung drawn from the job's number), as
  ``Strategy=Hyperband`` with MinResource 1.
* ``amtune-asha-random``: the same stopping rule with random configurations (the ablation that
  shows what the model adds); ``amtune-hyperband-level``: the previous model, a GP at the
  highest level enough jobs reached (``HyperbandStrategy(model="level")``).
* ``amtune-bayesian-auto``: BayesianStrategy + the median rule
  (``TrainingJobEarlyStoppingType=Auto``, with the service's minimum earlier jobs and minimum
  progress).
* ``amtune-bayesian``, ``amtune-random``: full training (early stopping Off).
* ``optuna-tpe-hyperband``, ``optuna-tpe-median``: Optuna's TPE sampler (defaults) with its
  HyperbandPruner (min_resource 1, reduction factor 3) or MedianPruner (defaults), driven by
  ask/tell, ``report`` and ``should_prune`` exactly as an Optuna worker would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from amtune.app.early_stopping import (
    HYPERBAND_ETA,
    HYPERBAND_GRACE,
    MEDIAN_MIN_EARLIER_JOBS,
    MEDIAN_MIN_PROGRESS,
)
from amtune.engine.spaces import (
    CategoricalRange,
    Config,
    ContinuousRange,
    IntegerRange,
)
from amtune.engine.stopping import hyperband_stops, median_rule_stops, rung_levels
from amtune.engine.strategies import get_strategy
from amtune.engine.strategies.base import History, Strategy, Trial
from amtune.engine.strategies.hyperband import HyperbandStrategy

from .problems import Problem
from .simulator import Job, Method
from .synetune_methods import SYNETUNE_METHODS

ETA = HYPERBAND_ETA


def _history(jobs: list[Job]) -> History:
    finished = tuple(Trial(j.config, j.last, j.curve) for j in jobs if j.ended)
    running = [j for j in jobs if not j.ended]
    return History(
        finished=finished,
        pending=tuple(j.config for j in running),
        pending_curves=tuple(j.curve for j in running),
    )


class AmtuneMethod:
    def __init__(self, problem: Problem, strategy: str, stopping: str, seed: int) -> None:
        self.problem = problem
        self.strategy: Strategy = (
            HyperbandStrategy(model="level")
            if strategy == "Hyperband-level"
            else get_strategy(strategy)
        )
        self.stopping = stopping
        self.seed = seed
        self.rungs = rung_levels(1.0, float(problem.max_resource), ETA)

    def ask(self, jobs: list[Job]) -> Config | None:
        return self.strategy.suggest(
            self.problem.space, _history(jobs), seed=self.seed, index=len(jobs)
        )

    def should_stop(self, job: Job, jobs: list[Job]) -> bool:
        if self.stopping == "hyperband":
            others = [j.curve for j in jobs if j is not job]
            return hyperband_stops(
                job.curve,
                job.number,
                others,
                rungs=self.rungs,
                eta=ETA,
                min_at_rung=HYPERBAND_GRACE,
            )
        if self.stopping == "median":
            earlier = [j.curve for j in jobs[: job.number]]
            return median_rule_stops(
                job.curve,
                earlier,
                min_others=MEDIAN_MIN_EARLIER_JOBS,
                min_progress=MEDIAN_MIN_PROGRESS,
            )
        return False

    def ended(self, job: Job, jobs: list[Job]) -> None:
        return None


class OptunaMethod:
    def __init__(self, problem: Problem, pruner: str, seed: int) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.problem = problem
        if pruner == "hyperband":
            chosen: Any = optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=problem.max_resource, reduction_factor=int(ETA)
            )
        else:
            chosen = optuna.pruners.MedianPruner()
        # Named: HyperbandPruner assigns brackets by a hash of the study name, which Optuna
        # otherwise generates at random, so an unnamed run is not repeatable.
        self.study = optuna.create_study(
            study_name=f"{problem.name}-{seed}",
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=chosen,
        )
        self.trials: dict[int, Any] = {}

    def ask(self, jobs: list[Job]) -> Config | None:
        trial = self.study.ask()
        self.trials[len(jobs)] = trial
        config: Config = {}
        for r in self.problem.space.ranges:
            if isinstance(r, ContinuousRange):
                log = r.scaling == "Logarithmic"
                config[r.name] = repr(trial.suggest_float(r.name, r.low, r.high, log=log))
            elif isinstance(r, IntegerRange):
                log = r.scaling == "Logarithmic"
                config[r.name] = str(trial.suggest_int(r.name, r.low, r.high, log=log))
            elif isinstance(r, CategoricalRange):
                config[r.name] = str(trial.suggest_categorical(r.name, list(r.values)))
        return config

    def should_stop(self, job: Job, jobs: list[Job]) -> bool:
        trial = self.trials[job.number]
        step, value = job.reported[-1]
        trial.report(value, int(step))
        return bool(trial.should_prune())

    def ended(self, job: Job, jobs: list[Job]) -> None:
        trial = self.trials.pop(job.number)
        if job.stopped:
            self.study.tell(trial, state=self.optuna.trial.TrialState.PRUNED)
        else:
            self.study.tell(trial, job.last)


METHODS: dict[str, Callable[[Problem, int], Method]] = {
    "amtune-hyperband": lambda p, s: AmtuneMethod(p, "Hyperband", "hyperband", s),
    "amtune-asha-random": lambda p, s: AmtuneMethod(p, "Random", "hyperband", s),
    "amtune-hyperband-level": lambda p, s: AmtuneMethod(p, "Hyperband-level", "hyperband", s),
    "amtune-bayesian-auto": lambda p, s: AmtuneMethod(p, "Bayesian", "median", s),
    "amtune-bayesian": lambda p, s: AmtuneMethod(p, "Bayesian", "none", s),
    "amtune-random": lambda p, s: AmtuneMethod(p, "Random", "none", s),
    "optuna-tpe-hyperband": lambda p, s: OptunaMethod(p, "hyperband", s),
    "optuna-tpe-median": lambda p, s: OptunaMethod(p, "median", s),
    **SYNETUNE_METHODS,  # synetune-asha, synetune-mobster: need Syne Tune, installed apart
}
