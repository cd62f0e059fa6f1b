"""The Bayesian engine's claims under pending jobs, and its endgame trust region.

Claims made while other jobs run must stay distinct, reproducible for a seed, and must not be
pushed onto the bounds of a box whose optimum lies inside. The trust region (``endgame``) is
off by default (it lost on the asynchronous benchmark, bench/RESULTS.md); its tests switch it
on, so that what it does stays what its docstring says.
"""

from __future__ import annotations

import numpy as np
import pytest

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy, endgame
from amtune.engine.strategies.bayesian import strategy as strategy_module
from amtune.engine.strategies.bayesian.strategy import initial_design_size

DIM = 4
BOX = SearchSpace.from_parameter_ranges(
    {
        "ContinuousParameterRanges": [
            {"Name": f"x{i}", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"}
            for i in range(DIM)
        ]
    }
)
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


# ------------------------------------------------------------------ the region's state
def test_no_region_while_the_search_keeps_improving() -> None:
    improving = np.linspace(10.0, 1.0, 30)
    assert endgame.region_side(improving, n_design=6, dim=3) is None


def test_a_stall_opens_a_region_and_further_failures_halve_it() -> None:
    wait = endgame.patience(3)
    stalled = np.concatenate([np.linspace(10.0, 1.0, 6), np.full(wait, 5.0)])
    assert endgame.region_side(stalled, n_design=6, dim=3) == endgame.INITIAL_SIDE
    longer = np.concatenate([stalled, np.full(wait, 5.0)])
    assert endgame.region_side(longer, n_design=6, dim=3) == endgame.INITIAL_SIDE / 2


def test_improvements_in_a_row_double_the_region() -> None:
    wait = endgame.patience(3)
    stalled = np.concatenate([np.linspace(10.0, 1.0, 6), np.full(wait, 5.0)])
    better = np.concatenate([stalled, [0.9, 0.8]])
    assert endgame.region_side(better, n_design=6, dim=3) == 2 * endgame.INITIAL_SIDE


def test_a_region_shrunk_below_its_minimum_hands_back_to_the_global_search() -> None:
    wait = endgame.patience(3)
    halvings = int(np.ceil(np.log2(endgame.INITIAL_SIDE / endgame.MIN_SIDE)))
    history = np.concatenate([np.linspace(10.0, 1.0, 6), np.full(wait * (1 + halvings), 5.0)])
    assert endgame.region_side(history, n_design=6, dim=3) is None


# ------------------------------------------------------------------ suggestions
def test_a_stalled_search_suggests_near_its_best_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the design, every trial is worse than the best design point: with the region on,
    the next claims stay in a box around it, not anywhere in the cube."""
    monkeypatch.setattr(strategy_module, "ENDGAME", True)
    finished = random_trials(initial_design_size(DIM), seed=3)
    best = min(finished, key=lambda t: float(t.objective or np.inf))
    centre = BOX.to_unit(best.config)
    far = np.where(centre < 0.5, 0.97, 0.03)  # the opposite corner: worse than any design point
    rng = np.random.default_rng(0)
    for _ in range(2 * endgame.patience(DIM)):
        config = BOX.from_unit(np.clip(far + 0.02 * rng.standard_normal(DIM), 0.0, 1.0))
        finished.append(Trial(config=config, objective=bowl(config) + 10.0))
    for index in range(3):
        history = History(finished=tuple(finished))
        config = BayesianStrategy().suggest(BOX, history, seed=1, index=len(finished) + index)
        assert config is not None
        assert np.max(np.abs(BOX.to_unit(config) - centre)) < 0.5


@pytest.mark.parametrize("region", [False, True])
def test_claims_under_pending_jobs_are_the_same_for_the_same_seed(
    region: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(strategy_module, "ENDGAME", region)
    finished = random_trials(24, seed=5)  # late enough that a region would be open
    first = claims_with_pending(finished, 6, seed=11)
    assert claims_with_pending(finished, 6, seed=11) == first
    assert claims_with_pending(finished, 6, seed=12) != first


@pytest.mark.parametrize("region", [False, True])
def test_claims_under_pending_jobs_are_distinct_points(
    region: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twelve claims in a row, each with the earlier ones pending, on a history where a region
    would be open: in a small box the believers alone let four workers claim points 1e-7
    apart, so a claim there keeps a tenth of the box from every pending one."""
    monkeypatch.setattr(strategy_module, "ENDGAME", region)
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
