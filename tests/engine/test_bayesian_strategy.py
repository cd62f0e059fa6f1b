"""Bayesian strategy: what a tuning job relies on when it asks the GP engine for a config."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pytest

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.bayesian import BayesianStrategy
from amtune.engine.strategies.bayesian import strategy as strategy_module
from amtune.engine.strategies.bayesian.design import exploration_step
from amtune.engine.strategies.bayesian.encoding import Encoder
from amtune.engine.strategies.bayesian.gp import Hyper, ModelError, Posterior

BRANIN = SearchSpace.from_parameter_ranges(
    {
        "ContinuousParameterRanges": [
            {"Name": "x1", "MinValue": "-5", "MaxValue": "10", "ScalingType": "Linear"},
            {"Name": "x2", "MinValue": "0", "MaxValue": "15", "ScalingType": "Linear"},
        ]
    }
)
MIXED = SearchSpace.from_parameter_ranges(
    {
        "IntegerParameterRanges": [
            {"Name": "layers", "MinValue": "1", "MaxValue": "8"},
            {"Name": "units", "MinValue": "8", "MaxValue": "512", "ScalingType": "Logarithmic"},
        ],
        "ContinuousParameterRanges": [
            {"Name": "lr", "MinValue": "1e-5", "MaxValue": "1", "ScalingType": "Logarithmic"},
            {
                "Name": "mom",
                "MinValue": "0.5",
                "MaxValue": "0.999",
                "ScalingType": "ReverseLogarithmic",
            },
        ],
        "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd", "rmsprop"]}],
    }
)


def branin(c: Config) -> float:
    x1, x2 = float(c["x1"]), float(c["x2"])
    b, cc, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + cc * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def mixed_objective(c: Config) -> float:
    shift = {"adam": -3.0, "sgd": -1.0, "rmsprop": -2.0}[c["opt"]]
    return (
        (math.log10(float(c["lr"])) - shift) ** 2
        + 0.2 * (int(c["layers"]) - 3) ** 2
        + 0.1 * (math.log2(int(c["units"])) - 6) ** 2
        + 5 * (float(c["mom"]) - 0.9) ** 2
    )


def random_history(space: SearchSpace, n: int, f: Any, seed: int = 0) -> History:
    rng = np.random.default_rng(seed)
    trials = []
    for _ in range(n):
        config = space.from_unit(rng.random(space.dim))
        trials.append(Trial(config=config, objective=f(config)))
    return History(finished=tuple(trials))


def suggest(space: SearchSpace, history: History, seed: int = 0, index: int = 0) -> Config:
    config = BayesianStrategy().suggest(space, history, seed=seed, index=index)
    assert config is not None
    return config


def key(config: Config) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(config.items()))


def test_same_inputs_give_the_same_suggestion_in_every_phase() -> None:
    for n in (0, 3, 15):  # initial design, still initial design, model
        history = random_history(MIXED, n, mixed_objective)
        pending = (MIXED.from_unit(np.full(MIXED.dim, 0.3)),)
        history = History(finished=history.finished, pending=pending)
        first = suggest(MIXED, history, seed=7, index=n + 1)
        assert suggest(MIXED, history, seed=7, index=n + 1) == first
        assert BayesianStrategy().suggest(MIXED, history, seed=7, index=n + 1) == first


def test_different_seeds_start_from_different_points() -> None:
    assert suggest(BRANIN, History(), seed=1) != suggest(BRANIN, History(), seed=2)


def test_suggestions_are_valid_configs_of_a_mixed_space() -> None:
    history = random_history(MIXED, 12, mixed_objective)
    config = suggest(MIXED, history, index=12)
    assert set(config) == set(MIXED.names)
    assert MIXED.contains(config)
    assert MIXED.from_unit(MIXED.to_unit(config)) == config
    assert config["layers"].isdigit() and config["units"].isdigit()


def test_discrete_space_is_exhausted_without_repeats_then_returns_none() -> None:
    space = SearchSpace.from_parameter_ranges(
        {
            "IntegerParameterRanges": [{"Name": "n", "MinValue": "1", "MaxValue": "4"}],
            "CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "b", "c"]}],
        }
    )
    strategy = BayesianStrategy()
    finished: list[Trial] = []
    pending: list[Config] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for index in range(12):
        config = strategy.suggest(
            space, History(tuple(finished), tuple(pending)), seed=3, index=index
        )
        assert config is not None
        assert key(config) not in seen
        seen.add(key(config))
        if index % 3 == 2:  # every third job is still running
            pending.append(config)
        else:
            finished.append(Trial(config, float(int(config["n"]) + ord(config["c"]))))
    assert len(seen) == 12
    last = strategy.suggest(space, History(tuple(finished), tuple(pending)), seed=3, index=12)
    assert last is None


def test_model_never_returns_a_finished_or_pending_integer_config() -> None:
    # 2 integers with 5 values each: the model phase starts long before the space is used up
    space = SearchSpace.from_parameter_ranges(
        {
            "IntegerParameterRanges": [
                {"Name": "a", "MinValue": "0", "MaxValue": "4"},
                {"Name": "b", "MinValue": "0", "MaxValue": "4"},
            ]
        }
    )
    strategy = BayesianStrategy()
    finished: list[Trial] = []
    pending: list[Config] = []
    seen = set()
    for index in range(25):
        config = strategy.suggest(
            space, History(tuple(finished), tuple(pending)), seed=0, index=index
        )
        assert config is not None and key(config) not in seen
        seen.add(key(config))
        if index % 4 == 0:
            pending.append(config)
        else:
            finished.append(Trial(config, (int(config["a"]) - 2) ** 2 + 0.1))
    assert (
        strategy.suggest(space, History(tuple(finished), tuple(pending)), seed=0, index=25) is None
    )


def test_pending_jobs_get_distinct_spread_out_suggestions() -> None:
    history = random_history(BRANIN, 12, branin, seed=4)
    strategy = BayesianStrategy()
    pending: list[Config] = []
    for i in range(8):
        h = History(finished=history.finished, pending=tuple(pending))
        config = strategy.suggest(BRANIN, h, seed=4, index=12 + i)
        assert config is not None
        pending.append(config)
    points = np.array([BRANIN.to_unit(c) for c in pending])
    distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    np.fill_diagonal(distances, np.inf)
    assert len({key(c) for c in pending}) == 8
    assert distances.min() > 0.01  # no two workers get nearly the same point


def test_all_failed_history_still_suggests_new_points() -> None:
    history = random_history(MIXED, 20, lambda c: None)
    config = suggest(MIXED, history, index=20)
    assert MIXED.contains(config)
    assert key(config) not in {key(t.config) for t in history.finished}


def test_constant_objective_and_failures_mixed_in() -> None:
    history = random_history(BRANIN, 15, lambda c: 1.0)
    failed = random_history(BRANIN, 3, lambda c: None, seed=9)
    history = History(finished=history.finished + failed.finished)
    config = suggest(BRANIN, history, index=18)
    assert BRANIN.contains(config)


@pytest.mark.parametrize("outlier", [1e12, 1e300, math.inf, -math.inf, math.nan])
def test_huge_outliers_do_not_break_the_model(outlier: float) -> None:
    history = random_history(BRANIN, 15, branin, seed=2)
    trials = list(history.finished)
    trials[3] = Trial(trials[3].config, outlier)
    config = suggest(BRANIN, History(finished=tuple(trials)), index=15)
    assert BRANIN.contains(config)


def test_configs_from_another_space_are_ignored() -> None:
    history = random_history(BRANIN, 12, branin)
    foreign = Trial({"x1": "100", "other": "3"}, 0.0)
    config = suggest(BRANIN, History(finished=(*history.finished, foreign)), index=13)
    assert BRANIN.contains(config)


def test_numerical_failure_falls_back_to_a_logged_exploration_step(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken_fit(*args: Any, **kwargs: Any) -> Any:
        raise ModelError("Cholesky failed even with jitter")

    monkeypatch.setattr(strategy_module, "fit_hyper", broken_fit)
    history = random_history(BRANIN, 15, branin)
    used = {tuple(t.config[n] for n in BRANIN.names) for t in history.finished}
    with caplog.at_level(logging.WARNING, logger=strategy_module.__name__):
        config = suggest(BRANIN, history, seed=5, index=15)
    assert config == exploration_step(BRANIN, used, seed=5, index=15)
    assert any("falling back" in r.getMessage() for r in caplog.records)


def test_nan_inputs_to_the_model_fall_back_instead_of_raising(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def nan_targets(objectives: Any) -> Any:
        return np.full(len(objectives), np.nan)

    monkeypatch.setattr(strategy_module, "warp_targets", nan_targets)
    history = random_history(BRANIN, 15, branin)
    with caplog.at_level(logging.WARNING, logger=strategy_module.__name__):
        config = suggest(BRANIN, history, index=15)
    assert BRANIN.contains(config)
    assert caplog.records


def test_beats_random_search_on_branin() -> None:
    budget, seeds = 20, (0, 1, 2)
    gp_best, random_best = [], []
    strategy = BayesianStrategy()
    for seed in seeds:
        finished: list[Trial] = []
        for index in range(budget):
            config = strategy.suggest(BRANIN, History(tuple(finished)), seed=seed, index=index)
            assert config is not None
            finished.append(Trial(config, branin(config)))
        gp_best.append(min(t.objective for t in finished if t.objective is not None))
        rng = np.random.default_rng(seed)
        random_best.append(min(branin(BRANIN.from_unit(rng.random(2))) for _ in range(budget)))
    regret_gp = np.mean(gp_best) - 0.397887
    regret_random = np.mean(random_best) - 0.397887
    assert regret_gp < 0.25 * regret_random


def test_registered_as_the_bayesian_strategy() -> None:
    from amtune.engine.strategies import SUPPORTED, get_strategy

    assert "Bayesian" in SUPPORTED
    strategy = get_strategy("Bayesian")
    assert isinstance(strategy, BayesianStrategy)
    history = random_history(BRANIN, 8, branin)
    assert BRANIN.contains(strategy.suggest(BRANIN, history, seed=0, index=8) or {})


def test_degenerate_ranges_are_handled() -> None:
    space = SearchSpace.from_parameter_ranges(
        {
            "IntegerParameterRanges": [{"Name": "k", "MinValue": "3", "MaxValue": "3"}],
            "ContinuousParameterRanges": [
                {"Name": "fixed", "MinValue": "0.5", "MaxValue": "0.5"},
                {"Name": "x", "MinValue": "0", "MaxValue": "1"},
            ],
            "CategoricalParameterRanges": [{"Name": "only", "Values": ["v"]}],
        }
    )
    history = random_history(space, 10, lambda c: (float(c["x"]) - 0.3) ** 2)
    config = suggest(space, history, index=10)
    assert config["k"] == "3" and config["fixed"] == "0.5" and config["only"] == "v"


UNIT2 = SearchSpace.from_parameter_ranges(
    {
        "ContinuousParameterRanges": [
            {"Name": n, "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"} for n in "ab"
        ]
    }
)
ACKLEY5 = SearchSpace.from_parameter_ranges(
    {
        "ContinuousParameterRanges": [
            {"Name": f"x{i}", "MinValue": "-32.768", "MaxValue": "32.768", "ScalingType": "Linear"}
            for i in range(5)
        ]
    }
)


def ackley(c: Config) -> float:
    x = np.array([float(c[f"x{i}"]) for i in range(5)])
    return float(
        -20 * math.exp(-0.2 * math.sqrt(np.mean(x**2)))
        - math.exp(np.mean(np.cos(2 * math.pi * x)))
        + 20
        + math.e
    )


def test_a_long_run_takes_ei_from_the_fitted_mean_only_where_ei_buys_only_variance() -> None:
    """Ackley-5's outer plateau fits as mostly noise, so some claims of a run take the check's
    branch and others not; claims made while other jobs run consult it too."""
    verdicts: list[bool] = []
    check = strategy_module.ei_buys_only_variance

    def spy(*args: Any) -> bool:
        verdicts.append(check(*args))
        return verdicts[-1]

    strategy, finished = BayesianStrategy(), list[Trial]()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(strategy_module, "ei_buys_only_variance", spy)
        for index in range(48):
            config = strategy.suggest(ACKLEY5, History(tuple(finished)), seed=0, index=index)
            assert config is not None
            finished.append(Trial(config, ackley(config)))
        n_sequential = len(verdicts)
        pending = (strategy.suggest(ACKLEY5, History(tuple(finished)), seed=0, index=48) or {},)
        strategy.suggest(ACKLEY5, History(tuple(finished), pending), seed=0, index=49)
    assert n_sequential == 48 - strategy_module.initial_design_size(5)
    assert any(verdicts) and not all(verdicts)
    assert len(verdicts) == n_sequential + 2


def test_the_variance_only_check_compares_the_pick_with_the_median_finished_trial() -> None:
    """Trials cluster around a bowl's minimum at (0.3, 0.3): a pick there is a real improvement
    candidate; a pick in the empty far corner, where the mean reverts to the prior, is not."""
    rng = np.random.default_rng(3)
    u = np.vstack([np.clip(0.3 + 0.15 * rng.standard_normal((25, 2)), 0, 1), rng.random((5, 2))])
    y = np.sum((u - 0.3) ** 2, axis=1) + 0.01 * rng.standard_normal(30)
    y = (y - y.mean()) / y.std()
    encoder = Encoder(UNIT2)
    x = encoder.features(u)
    posterior = Posterior(x, y, Hyper(np.array([0.2, 0.2]), signal_var=1.0, noise_var=0.3))
    fitted, _ = posterior.predict(x)
    picks = np.array([[0.3, 0.3], [0.98, 0.98]])
    check = strategy_module.ei_buys_only_variance
    assert not check(posterior, encoder, picks, np.array([1.0, 0.0]), fitted)
    assert check(posterior, encoder, picks, np.array([0.0, 1.0]), fitted)
    assert not check(posterior, encoder, picks[:0], np.array([]), fitted)


def test_a_variance_only_claim_returns_a_point_the_mean_rates() -> None:
    """Where the check fires, the redone search may not end in a far corner again: the claim
    gets a config whose posterior mean is no worse than the median finished trial."""
    follows = strategy_module.follows_the_mean
    fired: list[tuple[Posterior, Encoder, np.ndarray]] = []

    def spy(
        posterior: Posterior,
        encoder: Encoder,
        u: np.ndarray,
        fitted: np.ndarray,
        incumbent: np.ndarray,
    ) -> np.ndarray:
        fired.append((posterior, encoder, fitted))
        return follows(posterior, encoder, u, fitted, incumbent)

    strategy, finished = BayesianStrategy(), list[Trial]()
    checked = 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(strategy_module, "follows_the_mean", spy)
        for index in range(48):
            before = len(fired)
            config = strategy.suggest(ACKLEY5, History(tuple(finished)), seed=0, index=index)
            assert config is not None
            if len(fired) > before:
                posterior, encoder, fitted = fired[-1]
                u = ACKLEY5.to_unit(config)[None, :]
                assert posterior.mean(encoder.features(u))[0] <= np.median(fitted)
                checked += 1
            finished.append(Trial(config, ackley(config)))
    assert checked > 0


def test_a_variance_only_claim_may_still_switch_category() -> None:
    """The mean rates a bowl's neighbourhood and not its far corner; in another category than
    the incumbent's, a point is allowed whatever the mean says, since few trials saw it."""
    space = SearchSpace.from_parameter_ranges(
        {
            "ContinuousParameterRanges": [
                {"Name": n, "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"} for n in "ab"
            ],
            "CategoricalParameterRanges": [{"Name": "c", "Values": ["p", "q", "r"]}],
        }
    )
    rng = np.random.default_rng(5)
    numeric = np.vstack(
        [np.clip(0.3 + 0.15 * rng.standard_normal((25, 2)), 0, 1), rng.random((5, 2))]
    )
    u = np.column_stack([numeric, np.full(30, 1 / 6)])  # every trial in category "p"
    y = np.sum((numeric - 0.3) ** 2, axis=1)
    y = (y - y.mean()) / y.std()
    encoder = Encoder(space)
    posterior = Posterior(encoder.features(u), y, Hyper(np.full(5, 0.3), 1.0, 0.01))
    fitted = posterior.mean(encoder.features(u))
    incumbent = u[int(np.argmin(y))]
    candidates = np.array([[0.3, 0.3, 1 / 6], [0.98, 0.98, 1 / 6], [0.98, 0.98, 0.5]])
    allowed = strategy_module.follows_the_mean(posterior, encoder, candidates, fitted, incumbent)
    assert allowed.tolist() == [True, False, True]
