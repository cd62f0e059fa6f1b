"""The Bayesian strategy's expected improvement, which the convergence criterion reads."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

from amtune.app.completion import converged
from amtune.engine.spaces import Config
from amtune.engine.strategies import get_strategy
from amtune.engine.strategies.base import History, Trial, suggest_scored
from tests.engine.boxes import unit_box


def _bowl(config: Config) -> float:
    return sum((float(v) - 0.3) ** 2 for v in config.values())


def _ackley(config: Config) -> float:
    x = [float(v) * 10 - 3 for v in config.values()]
    d = len(x)
    return (
        -20 * math.exp(-0.2 * math.sqrt(sum(t * t for t in x) / d))
        - math.exp(sum(math.cos(2 * math.pi * t) for t in x) / d)
        + 20
        + math.e
    )


def _run(
    strategy: str, dim: int, objective: Callable[[Config], float], n: int
) -> list[float | None]:
    space = unit_box(dim)
    finished: list[Trial] = []
    expected: list[float | None] = []
    for index in range(n):
        history = History(finished=tuple(finished))
        suggestion = suggest_scored(get_strategy(strategy), space, history, seed=1, index=index)
        assert suggestion.config is not None
        finished.append(Trial(suggestion.config, objective(suggestion.config)))
        expected.append(suggestion.expected_improvement)
    return expected


def test_the_model_expects_little_once_a_bowl_is_solved() -> None:
    expected = _run("Bayesian", 2, _bowl, 25)
    assert expected[:5] == [None] * 5  # the initial design: no model, no expectation
    assert all(e is not None and e >= 0 for e in expected[5:])
    first = next(i for i in range(5, 26) if converged(expected[: i + 1]))
    assert first < 25


def test_the_model_keeps_hoping_on_six_dimensions_of_ripples() -> None:
    expected = _run("Bayesian", 6, _ackley, 30)
    assert not any(converged(expected[: i + 1]) for i in range(30))


def test_strategies_without_a_model_expect_nothing() -> None:
    assert set(_run("Random", 1, _bowl, 12)) == {None}


def test_convergence_needs_five_low_expectations_in_a_row() -> None:
    assert converged([0.5, 0.001, 0.002, 0.0, 0.009, 0.001])
    assert not converged([0.001, 0.002, 0.0, 0.009])
    assert not converged([0.001, 0.002, 0.0, 0.009, 0.01])
    assert not converged([0.001, None, 0.0, 0.009, 0.001])


def test_noise_is_judged_converged_once_the_model_sees_no_structure() -> None:
    """Pure noise: the GP explains it as noise, flat mean, and expects nothing anywhere."""

    def noise(config: Config) -> float:
        digest = hashlib.sha256(",".join(config.values()).encode()).hexdigest()
        return int(digest[:8], 16) / 2**32

    expected = _run("Bayesian", 2, noise, 30)
    assert converged(expected)
