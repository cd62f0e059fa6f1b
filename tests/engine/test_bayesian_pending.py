"""The Bayesian engine's claims under pending jobs.

Claims made while other jobs run must stay distinct, reproducible for a seed, and must not be
pushed onto the bounds of a box whose optimum lies inside.
"""

from __future__ import annotations

import numpy as np

from amtune.engine.spaces import Config
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy
from amtune.engine.strategies.bayesian.strategy import initial_design_size
from tests.engine.boxes import unit_box

DIM = 4
BOX = unit_box(DIM)
OPTIMUM = np.array([0.35, 0.6, 0.45, 0.55])
CURVATURE = np.array([1.0, 3.0, 0.5, 2.0])


def bowl(config: Config) -> float:
    """A smooth bowl whose minimum lies well inside the box."""
    u = BOX.to_unit(config)
    return float(np.sum(CURVATURE * (u - OPTIMUM) ** 2))


def random_trials(n: int, seed: int) -> list[Trial]:
    rng = np.random.default_rng(seed)
    configs = [BOX.from_unit(rng.random(DIM)) for _ in range(n)]
    return [Trial(config=c, objective=bowl(c)) for c in configs]


def claims_with_pending(finished: list[Trial], n: int, seed: int) -> list[Config]:
    """``n`` claims in a row, each made while every earlier one is still running."""
    strategy, pending = BayesianStrategy(), list[Config]()
    for k in range(n):
        history = History(finished=tuple(finished), pending=tuple(pending))
        config = strategy.suggest(BOX, history, seed=seed, index=len(finished) + k)
        assert config is not None
        pending.append(config)
    return pending


def test_claims_under_pending_jobs_are_the_same_for_the_same_seed() -> None:
    finished = random_trials(24, seed=5)
    first = claims_with_pending(finished, 6, seed=11)
    assert claims_with_pending(finished, 6, seed=11) == first
    assert claims_with_pending(finished, 6, seed=12) != first


def test_claims_under_pending_jobs_are_distinct_points() -> None:
    """Twelve claims in a row, each with the earlier ones pending, are twelve distinct points."""
    for seed in (0, 1):
        claims = claims_with_pending(random_trials(24, seed=seed), 12, seed=seed)
        points = np.array([BOX.to_unit(c) for c in claims])
        distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
        np.fill_diagonal(distances, np.inf)
        assert distances.min() > 1e-3


def test_pending_jobs_do_not_push_claims_onto_the_bounds() -> None:
    """Eight workers, each claiming the moment its job ends, on a bowl whose minimum is inside
    the box: after the design, a claim (seven jobs pending) lies within 2 % of a bound no more
    often than a uniformly random point does (1 - 0.96**4, about 15 %).

    The kriging believers collapse the variance around every pending point, so EI left over
    elsewhere is mostly variance, which is largest on the bounds. Before claims under pending
    jobs consulted the variance-only check, 17 % of these claims went onto a bound; now about
    12 %, the rate of a single worker. Not covered, and not fixed: a burst of 15 claims over 16
    random trials still puts about a quarter of them within 2 % of a bound."""
    workers, budget, design = 8, 40, initial_design_size(DIM)
    near_bound = total = 0
    strategy = BayesianStrategy()
    for seed in range(6):
        finished: list[Trial] = []
        pending: list[Config] = []
        while len(finished) + len(pending) < budget:
            while len(pending) < workers and len(finished) + len(pending) < budget:
                history = History(finished=tuple(finished), pending=tuple(pending))
                index = len(finished) + len(pending)
                config = strategy.suggest(BOX, history, seed=seed, index=index)
                assert config is not None
                if len(finished) >= design and pending:
                    u = BOX.to_unit(config)
                    near_bound += bool(np.any((u < 0.02) | (u > 0.98)))
                    total += 1
                pending.append(config)
            done = pending.pop(0)
            finished.append(Trial(config=done, objective=bowl(done)))
    assert total > 100
    assert near_bound / total <= 1.0 - 0.96**DIM


ACKLEY_CENTRE = np.full(3, 0.3)
ACKLEY_BOX = unit_box(3)


def ackley(config: Config) -> float:
    """3-D Ackley on the unit cube, its funnel at ``ACKLEY_CENTRE``, ten ripples per unit: an
    outer plateau of local minima (each at 2.1 or more) around a central basin (below 1)."""
    z = (ACKLEY_BOX.to_unit(config) - ACKLEY_CENTRE) * 10.0
    return float(
        -20.0 * np.exp(-0.2 * np.sqrt(np.mean(z**2)))
        - np.exp(np.mean(np.cos(2.0 * np.pi * z)))
        + 20.0
        + np.e
    )


def best_of_asynchronous_workers(workers: int, budget: int, seed: int) -> float:
    """The best value ``workers`` workers find when each claims the moment its job ends."""
    strategy = BayesianStrategy()
    finished: list[Trial] = []
    pending: list[Config] = []
    while len(finished) < budget:
        while len(pending) < workers and len(finished) + len(pending) < budget:
            history = History(finished=tuple(finished), pending=tuple(pending))
            index = len(finished) + len(pending)
            config = strategy.suggest(ACKLEY_BOX, history, seed=seed, index=index)
            assert config is not None
            pending.append(config)
        done = pending.pop(0)
        finished.append(Trial(config=done, objective=ackley(done)))
    return min(float(t.objective) for t in finished if t.objective is not None)


def test_workers_claiming_under_pending_jobs_still_find_the_central_basin() -> None:
    """Eight workers claiming one at a time (seven jobs pending at every claim) find Ackley's
    central basin within 64 evaluations, as one worker does on every one of these seeds.

    On the outer plateau the fit calls the ripples noise and EI's best candidate is variance
    alone; such claims are redone from the plug-in incumbent, counting the pending jobs' believed
    values. When only claims made with nothing pending were redone, workers under pending jobs
    chased variance and ended on a side minimum on half of these seeds."""
    found = [best_of_asynchronous_workers(8, 64, seed) < 1.0 for seed in range(6)]
    assert sum(found) >= 5
