"""What every strategy does with a warm start's parents (``History.finished`` for the same
function, ``History.transfer`` for related ones): no parent configuration is suggested again,
and the models (Bayesian, Hyperband's) start from the parents' observations."""

from __future__ import annotations

import math

import pytest

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies import get_strategy
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian.strategy import TRANSFER_TRUST_RADIUS, transfer_horizon
from amtune.engine.strategies.hyperband import level_history

SMALL = SearchSpace.from_parameter_ranges(
    {
        "IntegerParameterRanges": [{"Name": "x", "MinValue": "1", "MaxValue": "8"}],
        "CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "b"]}],
    }
)
"""16 combinations: small enough that a strategy that ignored the parents would repeat one."""
LINE = SearchSpace.from_parameter_ranges(
    {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
)


def small_parents() -> tuple[Trial, ...]:
    """Ten of the sixteen combinations, best at x=7."""
    configs = [{"x": str(x), "c": c} for x in range(1, 9) for c in ("a", "b")][:10]
    return tuple(Trial(cfg, float((int(cfg["x"]) - 7) ** 2)) for cfg in configs)


def key(config: Config) -> tuple[str, str]:
    return config["x"], config["c"]


def run(strategy: str, history: History, n: int) -> list[Config]:
    """n suggestions in sequence, each finished before the next (one worker)."""
    engine = get_strategy(strategy)
    own: list[Trial] = []
    for index in range(n):
        now = History(finished=history.finished + tuple(own), transfer=history.transfer)
        config = engine.suggest(SMALL, now, seed=3, index=index)
        if config is None:
            break
        own.append(Trial(config, 1.0))
    return [t.config for t in own]


@pytest.mark.parametrize("strategy", ["Random", "Grid", "Bayesian", "Hyperband"])
@pytest.mark.parametrize("kind", ["identical", "transfer"])
def test_no_strategy_suggests_a_parent_configuration_again(strategy: str, kind: str) -> None:
    parents = small_parents()
    history = History(finished=parents) if kind == "identical" else History(transfer=(parents,))
    suggested = run(strategy, history, 16)
    assert len(suggested) == 6  # the six combinations the parents left, then nothing
    assert {key(c) for c in suggested}.isdisjoint({key(t.config) for t in parents})
    assert len({key(c) for c in suggested}) == 6


def peak_at(x: float) -> tuple[Trial, ...]:
    """Eight evaluations of a parabola with its minimum at ``x``, spread over [0, 1]."""
    points = [0.05, 0.18, 0.31, 0.44, 0.57, 0.83, 0.96, 0.7]
    return tuple(Trial({"x": repr(p)}, (p - x) ** 2) for p in points)


@pytest.mark.parametrize("kind", ["identical", "transfer"])
def test_a_warm_hyperband_child_starts_from_its_parents_final_values(kind: str) -> None:
    """The parents' final values (no curves) enter the model: the child's first suggestion is
    near their best point, not at its quasi-random design point, and is none of theirs."""
    parents = peak_at(0.72)
    if kind == "transfer":  # a related function on another scale
        parents = tuple(Trial(t.config, 1000.0 + 50.0 * (t.objective or 0.0)) for t in parents)
        history = History(transfer=(parents,))
    else:
        history = History(finished=parents)
    engine = get_strategy("Hyperband")
    warm = engine.suggest(LINE, history, seed=5, index=0)
    cold = engine.suggest(LINE, History(), seed=5, index=0)
    assert warm is not None and cold is not None
    assert abs(float(warm["x"]) - 0.72) < 0.1, warm
    assert abs(float(cold["x"]) - 0.72) > 0.1, cold  # the design point, for contrast
    assert warm["x"] not in {t.config["x"] for t in parents}


def test_hyperband_levels_keep_the_transfer_parents_and_put_identical_ones_on_top() -> None:
    """The child's own jobs reported curves up to step 9; a parent's final value counts as
    observed at the top level, and transfer groups pass through untouched."""
    same = peak_at(0.3)
    related = (peak_at(0.6),)
    own = tuple(
        Trial({"x": repr(x)}, v, curve=((1.0, v + 1.0), (3.0, v + 0.5), (9.0, v)))
        for x, v in ((0.1, 0.4), (0.9, 0.2))
    )
    leveled = level_history(History(finished=same + own, transfer=related), dim=1)
    assert leveled.transfer == related
    assert [t.objective for t in leveled.finished] == [t.objective for t in same + own]


SQUARE = SearchSpace.from_parameter_ranges(
    {
        "ContinuousParameterRanges": [
            {"Name": "x", "MinValue": "0", "MaxValue": "1"},
            {"Name": "y", "MinValue": "0", "MaxValue": "1"},
        ]
    }
)


def branin(u: float, v: float, shift: float = 0.0) -> float:
    """Branin on the unit square, its inputs moved by ``shift``: a steep function whose
    optima a 5 % shift moves far in value."""
    x, y = 15.0 * (u - shift) - 5.0, 15.0 * (v - shift)
    trend = y - 5.1 / (4.0 * math.pi**2) * x * x + 5.0 / math.pi * x - 6.0
    return trend**2 + 10.0 * (1.0 - 1.0 / (8.0 * math.pi)) * math.cos(x) + 10.0


def gap(a: Config, b: Config) -> float:
    return max(abs(float(a[k]) - float(b[k])) for k in ("x", "y"))


def test_a_transfer_child_refines_near_its_best_trial_once_its_parents_leave_the_model() -> None:
    """After ``transfer_horizon`` own trials, every claim of a TransferLearning child lies
    within TRANSFER_TRUST_RADIUS of its best own trial, where a cold job given the very same
    own trials sends some claims across the square (its GP, fitted on a cluster of points in
    one basin, finds its variance at far corners)."""
    grid = [(a / 7.0, b / 7.0) for a in range(8) for b in range(8)]
    parents = tuple(Trial({"x": repr(a), "y": repr(b)}, branin(a, b)) for a, b in grid)
    engine = get_strategy("Bayesian")
    own: list[Trial] = []
    warm_gaps, cold_gaps = [], []
    for index in range(16):
        config = engine.suggest(
            SQUARE, History(finished=tuple(own), transfer=(parents,)), seed=4, index=index
        )
        assert config is not None
        if len(own) >= transfer_horizon(SQUARE.dim):
            best = min(own, key=lambda t: t.objective or 0.0).config
            cold = engine.suggest(SQUARE, History(finished=tuple(own)), seed=4, index=index)
            assert cold is not None
            warm_gaps.append(gap(config, best))
            cold_gaps.append(gap(cold, best))
        own.append(Trial(config, branin(float(config["x"]), float(config["y"]), shift=0.05)))
    assert len(warm_gaps) >= 10
    assert max(warm_gaps) <= TRANSFER_TRUST_RADIUS + 1e-9, warm_gaps
    assert max(cold_gaps) > 4 * TRANSFER_TRUST_RADIUS, cold_gaps
