"""Grid: every combination exactly once, first free point first, None when done."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies import SUPPORTED, get_strategy
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.grid import GridSearch

SPACE = SearchSpace.from_parameter_ranges(
    {
        "CategoricalParameterRanges": [
            {"Name": "opt", "Values": ["adam", "sgd", "rmsprop"]},
            {"Name": "act", "Values": ["relu", "tanh"]},
        ]
    }
)


def test_registry_returns_grid() -> None:
    assert {"Random", "Grid"} <= SUPPORTED
    assert isinstance(get_strategy("Grid"), GridSearch)


def test_walks_the_grid_in_order_then_stops() -> None:
    strategy = GridSearch()
    pending: list[Config] = []
    for index in range(6):
        config = strategy.suggest(SPACE, History(pending=tuple(pending)), seed=0, index=index)
        assert config is not None
        pending.append(config)
    assert pending == SPACE.grid()
    assert strategy.suggest(SPACE, History(pending=tuple(pending)), seed=0, index=6) is None


def test_fills_the_first_gap_left_by_history() -> None:
    grid = SPACE.grid()
    history = History(
        finished=(Trial(grid[0], 1.0), Trial(grid[2], None)),
        pending=(grid[1], grid[4]),
    )
    assert GridSearch().suggest(SPACE, history, seed=9, index=4) == grid[3]


def test_does_not_depend_on_seed_or_index() -> None:
    history = History(pending=(SPACE.grid()[0],))
    first = GridSearch().suggest(SPACE, history, seed=0, index=1)
    assert all(
        GridSearch().suggest(SPACE, history, seed=s, index=i) == first
        for s, i in [(1, 1), (99, 7), (2**40, 0)]
    )


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=3),
    order_seed=st.integers(min_value=0, max_value=2**32),
)
def test_each_point_exactly_once_whatever_finishes_first(sizes: list[int], order_seed: int) -> None:
    space = SearchSpace.from_parameter_ranges(
        {
            "CategoricalParameterRanges": [
                {"Name": f"c{i}", "Values": [str(j) for j in range(n)]} for i, n in enumerate(sizes)
            ],
            "IntegerParameterRanges": [{"Name": "k", "MinValue": "-1", "MaxValue": "1"}],
        }
    )
    rng = np.random.default_rng(order_seed)
    finished: list[Trial] = []
    pending: list[Config] = []
    seen: list[Config] = []
    for index in range(space.cardinality() or 0):
        if pending and rng.random() < 0.5:  # some job ends
            finished.append(Trial(pending.pop(int(rng.integers(len(pending)))), 0.0))
        config = GridSearch().suggest(
            space, History(tuple(finished), tuple(pending)), seed=1, index=index
        )
        assert config is not None
        seen.append(config)
        pending.append(config)
    assert sorted(space.rank(c) for c in seen) == list(range(len(space.grid())))
    assert (
        GridSearch().suggest(space, History(tuple(finished), tuple(pending)), seed=1, index=0)
        is None
    )


def test_continuous_space_is_rejected() -> None:
    space = SearchSpace.from_parameter_ranges(
        {"ContinuousParameterRanges": [{"Name": "x", "MinValue": "0", "MaxValue": "1"}]}
    )
    with pytest.raises(ValueError):
        GridSearch().suggest(space, History(), seed=0, index=0)
