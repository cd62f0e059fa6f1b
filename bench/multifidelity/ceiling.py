"""``python -m bench.multifidelity.ceiling``: what AMT's rung rule saves when the search is fixed.

Hyperband's savings come from two things: which configurations the model proposes, and which
jobs the rung rule stops. This command holds the first fixed to measure the second. For each
seed it runs full-training amtune Bayesian (``amtune-bayesian``: 4 asynchronous workers, budget
``B = jobs x max_resource`` steps) and records its configurations in claim order and its final
best value, the paired target of ``bench.multifidelity``. It then *replays* those
configurations, in that order, with 4 workers under the rung rule, with each bracket policy:

* ``service``: the service's rule (:func:`~amtune.engine.stopping.hyperband_stops`, brackets in
  equal shares by job number);
* ``bracket-k``: every job in bracket ``k`` (first judged at rung ``k``; the last bracket is
  full training, so it reproduces the reference run exactly);
* ``oracle``: every job whose final value reaches the target in the last bracket (never
  stopped), every other job in bracket 0 (stopped as early as ASHA can). No bracket chooser
  can do better with this search: a job that reaches the target must run to MaxResource, and
  every other job costs least in bracket 0.

The same replay measures early stopping Auto: the reference's first
``jobs`` configurations under the median rule, against the same jobs fully trained, as
``bench.multifidelity`` measures Auto (the job limit of full training): the steps saved and the
score lost. What the rule costs there is the rule's alone; what an Auto run loses beyond it
comes from the search, which sees stopped jobs.

A replay proposes nothing new: when the recorded configurations run out before the target is
reached, the run ends. The figure is the steps until the best final value first reached the
target, over B (``inf``: the job that reaches it was stopped early). It is a ceiling for a
model that searches as well as full-training Bayesian: a Hyperband model that finds the target
in fewer configurations than full training does would beat it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from amtune.app.early_stopping import HYPERBAND_ETA, HYPERBAND_GRACE
from amtune.engine.spaces import Config
from amtune.engine.stopping import asha_stops

from .__main__ import parse_seeds
from .methods import METHODS, AmtuneMethod
from .problems import Problem, get_problem
from .simulator import Job, Method, simulate

REFERENCE = "amtune-bayesian"

Rule = Callable[[Job, list[Job]], bool]
"""(job, all jobs) -> stop the job now."""


class _Recorder:
    """Passes a method through and keeps the configurations it proposed, in order."""

    def __init__(self, inner: Method) -> None:
        self.inner = inner
        self.configs: list[Config] = []

    def ask(self, jobs: list[Job]) -> Config | None:
        config = self.inner.ask(jobs)
        if config is not None:
            self.configs.append(config)
        return config

    def should_stop(self, job: Job, jobs: list[Job]) -> bool:
        return self.inner.should_stop(job, jobs)

    def ended(self, job: Job, jobs: list[Job]) -> None:
        self.inner.ended(job, jobs)


class _Replay:
    """The recorded configurations in order, each job judged by ``rule``."""

    def __init__(self, configs: list[Config], rule: Rule) -> None:
        self.configs = configs
        self.should_stop = rule

    def ask(self, jobs: list[Job]) -> Config | None:
        return self.configs[len(jobs)] if len(jobs) < len(self.configs) else None

    def ended(self, job: Job, jobs: list[Job]) -> None:
        return None


def _judge(problem: Problem, stopping: str) -> AmtuneMethod:
    """The service's ``"hyperband"`` or ``"median"`` rule (and rungs), as the benchmark's amtune
    methods apply it; its strategy is never asked."""
    return AmtuneMethod(problem, "Random", stopping, seed=0)


def _in_bracket(rungs: Sequence[float], bracket: Callable[[Job], int]) -> Rule:
    def rule(job: Job, jobs: list[Job]) -> bool:
        first = min(bracket(job), len(rungs) - 1)
        others = [j.curve for j in jobs if j is not job]
        return asha_stops(
            job.curve, others, rungs=rungs[first:], eta=HYPERBAND_ETA, min_at_rung=HYPERBAND_GRACE
        )

    return rule


def _fixed(bracket: int) -> Callable[[Job], int]:
    return lambda job: bracket


def policies(problem: Problem, target: float) -> dict[str, Rule]:
    """The bracket policies of the module docstring, by name."""
    service = _judge(problem, "hyperband")
    rungs = service.rungs
    last = len(rungs) - 1
    rules: dict[str, Rule] = {"service": service.should_stop}
    for k in range(len(rungs)):
        rules[f"bracket-{k}"] = _in_bracket(rungs, _fixed(k))
    rules["oracle"] = _in_bracket(rungs, lambda job: last if job.truth[-1] <= target else 0)
    return rules


@dataclass
class Ceiling:
    """One problem's replays, per seed (module docstring)."""

    hyperband: dict[str, list[float]] = field(default_factory=dict)
    """Bracket policy -> steps to the paired target over B (``inf``: never reached)."""
    median_saved: list[float] = field(default_factory=list)
    """The fraction of the steps of the first ``jobs`` configurations the median rule saves."""
    median_lost: list[float] = field(default_factory=list)
    """The score it loses on them (fully trained minus the rule)."""


def _never(job: Job, jobs: list[Job]) -> bool:
    return False


def ceiling(problem: Problem, seeds: Sequence[int], *, jobs: int = 32, workers: int = 4) -> Ceiling:
    """Every replay of the module docstring, from one reference run per seed."""
    budget = jobs * problem.max_resource
    out = Ceiling()
    for seed in seeds:
        recorder = _Recorder(METHODS[REFERENCE](problem, seed))
        reference = simulate(problem, recorder, workers=workers, step_budget=budget)
        target = reference.best_at(budget)
        for name, rule in policies(problem, target).items():
            replay = _Replay(recorder.configs, rule)
            trace = simulate(problem, replay, workers=workers, step_budget=budget)
            out.hyperband.setdefault(name, []).append(trace.steps_to(target) / budget)
        first = recorder.configs[:jobs]
        full = simulate(problem, _Replay(first, _never), workers=workers, job_limit=jobs)
        median = _Replay(first, _judge(problem, "median").should_stop)
        stopped = simulate(problem, median, workers=workers, job_limit=jobs)
        out.median_saved.append(1.0 - stopped.total_steps / full.total_steps)
        out.median_lost.append(problem.score(full.best[-1]) - problem.score(stopped.best[-1]))
    return out


def markdown(results: dict[str, dict[str, list[float]]]) -> str:
    """One row per problem: each policy's median fraction of B, and the seeds within B/4."""
    names: list[str] = []
    for by_policy in results.values():  # problems with more rungs have more brackets
        names += [name for name in by_policy if name not in names]
    names.sort(key=lambda name: (name == "oracle", name != "service", len(name), name))
    lines = [
        "| problem | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for problem, by_policy in results.items():
        cells = []
        for name in names:
            if name not in by_policy:
                cells.append("")
                continue
            fractions = by_policy[name]
            median = float(np.median(fractions))
            quarter = sum(f <= 0.25 for f in fractions)
            shown = "never" if math.isinf(median) else f"{median:.2f}"
            cells.append(f"{shown} ({quarter}/{len(fractions)})")
        lines.append(f"| {problem} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.multifidelity.ceiling", description=__doc__
    )
    parser.add_argument("--problems", default="crossing-27,gb-breast,mlp-digits,sgd-digits")
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5")
    parser.add_argument("--jobs", type=int, default=32, help="full-training jobs B pays for")
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    problems = [get_problem(name) for name in args.problems.split(",")]
    results = {p.name: ceiling(p, seeds, jobs=args.jobs) for p in problems}
    print("Hyperband: steps to the paired target / B, median over seeds (seeds within B/4):\n")
    print(markdown({name: c.hyperband for name, c in results.items()}))
    print(f"\nEarly stopping Auto on the first {args.jobs} of the same configurations:\n")
    print("| problem | steps saved (median) | score lost (mean ± se) |\n|---|---:|---:|")
    for name, c in results.items():
        lost = c.median_lost
        se = float(np.std(lost, ddof=1) / np.sqrt(len(lost))) if len(lost) > 1 else 0.0
        print(f"| {name} | {np.median(c.median_saved):.0%} | {np.mean(lost):+.1f} ± {se:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
