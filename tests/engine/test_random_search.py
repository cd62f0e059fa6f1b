"""Random: seeded, i.i.d. on the scaled space, and never repeating a discrete combination."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies import SUPPORTED, get_strategy
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.random_search import RandomSearch

MIXED = SearchSpace.from_parameter_ranges(
    {
        "IntegerParameterRanges": [{"Name": "layers", "MinValue": "1", "MaxValue": "8"}],
        "ContinuousParameterRanges": [
            {"Name": "lr", "MinValue": "1e-5", "MaxValue": "1", "ScalingType": "Logarithmic"}
        ],
        "CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}],
    }
)


def discrete(n_int: int, cats: list[str], scaling: str = "Linear") -> SearchSpace:
    ranges: dict[str, Any] = {
        "IntegerParameterRanges": [
            {"Name": "n", "MinValue": "1", "MaxValue": str(n_int), "ScalingType": scaling}
        ],
        "CategoricalParameterRanges": [{"Name": "c", "Values": cats}],
    }
    return SearchSpace.from_parameter_ranges(ranges)


def draw(space: SearchSpace, seed: int, index: int, history: History | None = None) -> Config:
    config = RandomSearch().suggest(space, history or History(), seed=seed, index=index)
    assert config is not None
    return config


def run(space: SearchSpace, seed: int, jobs: int, pending_every: int = 3) -> list[Config | None]:
    """Create ``jobs`` training jobs, leaving some pending, as the app would."""
    strategy = RandomSearch()
    finished: list[Trial] = []
    pending: list[Config] = []
    out: list[Config | None] = []
    for index in range(jobs):
        config = strategy.suggest(
            space, History(tuple(finished), tuple(pending)), seed=seed, index=index
        )
        out.append(config)
        if config is None:
            continue
        if index % pending_every == 0:
            pending.append(config)
        else:
            finished.append(Trial(config, objective=float(index)))
    return out


def test_registry_returns_random() -> None:
    assert "Random" in SUPPORTED
    assert isinstance(get_strategy("Random"), RandomSearch)
    with pytest.raises(KeyError):
        get_strategy("random")


def test_same_seed_and_index_give_the_same_config() -> None:
    strategy = RandomSearch()
    a = [strategy.suggest(MIXED, History(), seed=42, index=i) for i in range(20)]
    b = [get_strategy("Random").suggest(MIXED, History(), seed=42, index=i) for i in range(20)]
    assert a == b
    c = [strategy.suggest(MIXED, History(), seed=43, index=i) for i in range(20)]
    assert a != c
    assert len({repr(sorted(x.items())) for x in a if x is not None}) == 20


def test_suggestion_does_not_depend_on_creation_order() -> None:
    strategy = RandomSearch()
    busy = History(pending=tuple(MIXED.from_unit(np.full(3, 0.5)) for _ in range(3)))
    assert strategy.suggest(MIXED, busy, seed=7, index=5) == strategy.suggest(
        MIXED, History(), seed=7, index=5
    )


def test_negative_seed_is_rejected() -> None:
    with pytest.raises(ValueError):
        RandomSearch().suggest(MIXED, History(), seed=-1, index=0)


def test_configs_are_valid_strings() -> None:
    for config in run(MIXED, seed=1, jobs=200):
        assert config is not None
        assert MIXED.contains(config)
        assert config["layers"] == str(int(config["layers"]))
        assert 1e-5 <= float(config["lr"]) <= 1.0


@settings(max_examples=40, deadline=None)
@given(
    n_int=st.integers(min_value=1, max_value=6),
    n_cat=st.integers(min_value=1, max_value=4),
    seed=st.integers(min_value=0, max_value=2**32),
    scaling=st.sampled_from(["Linear", "Logarithmic"]),
)
def test_discrete_space_never_repeats_until_exhausted(
    n_int: int, n_cat: int, seed: int, scaling: str
) -> None:
    space = discrete(n_int, [f"v{i}" for i in range(n_cat)], scaling)
    total = n_int * n_cat
    out = run(space, seed=seed, jobs=total + 3)
    produced = [c for c in out[:total] if c is not None]
    assert len(produced) == total
    assert sorted(space.rank(c) for c in produced) == list(range(total))
    assert out[total:] == [None, None, None]


def test_exhaustion_counts_pending_as_used() -> None:
    space = discrete(2, ["a"])
    history = History(
        pending=({"n": "1", "c": "a"},), finished=(Trial({"n": "2", "c": "a"}, None),)
    )
    assert RandomSearch().suggest(space, history, seed=0, index=2) is None


def test_nearly_exhausted_large_space_falls_back_to_the_free_combinations() -> None:
    space = discrete(1000, ["a", "b"])
    free = {17, 1500}
    history = History(
        pending=tuple(space.unrank(i) for i in range(2000) if i not in free),
    )
    picks = {space.rank(draw(space, 3, i, history)) for i in range(20)}
    assert picks == free


def test_history_configs_outside_the_space_are_ignored() -> None:
    space = discrete(1, ["a"])
    history = History(pending=({"n": "5", "c": "a"}, {"c": "a"}))
    assert RandomSearch().suggest(space, history, seed=0, index=0) == {"n": "1", "c": "a"}


def test_continuous_draws_are_uniform_in_log_space() -> None:
    space = SearchSpace.from_parameter_ranges(
        {
            "ContinuousParameterRanges": [
                {"Name": "lr", "MinValue": "1e-6", "MaxValue": "1", "ScalingType": "Logarithmic"}
            ]
        }
    )
    n = 6000
    exps = np.array([math.log10(float(draw(space, 11, i)["lr"])) for i in range(n)])
    counts, _ = np.histogram(exps, bins=6, range=(-6.0, 0.0))
    # each decade expects n/6 = 1000 draws; sd ~ 29, allow ~5 sd
    assert np.all(np.abs(counts - n / 6) < 150), counts
    # a linear sampler would put ~90% of draws in the top decade
    assert counts[-1] < 0.25 * n


def test_log_integer_draws_favour_small_values_by_log_share() -> None:
    space = SearchSpace.from_parameter_ranges(
        {
            "IntegerParameterRanges": [
                {"Name": "n", "MinValue": "1", "MaxValue": "1000", "ScalingType": "Logarithmic"}
            ]
        }
    )
    n = 4000
    values = np.array([int(draw(space, 5, i)["n"]) for i in range(n)])
    # P(n <= 10) = log(10.5/0.5) / log(1000.5/0.5) ~ 0.40 (a linear sampler: 0.01)
    expected = math.log(10.5 / 0.5) / math.log(1000.5 / 0.5)
    assert abs(np.mean(values <= 10) - expected) < 0.04


def test_only_discrete_spaces_need_the_history() -> None:
    """The service skips loading a big job's history when a draw cannot depend on it."""
    continuous = SearchSpace.from_parameter_ranges(
        {"ContinuousParameterRanges": [{"Name": "lr", "MinValue": "0.1", "MaxValue": "1"}]}
    )
    discrete = SearchSpace.from_parameter_ranges(
        {"CategoricalParameterRanges": [{"Name": "opt", "Values": ["adam", "sgd"]}]}
    )
    assert RandomSearch().needs_history(continuous) is False
    assert RandomSearch().needs_history(discrete) is True
