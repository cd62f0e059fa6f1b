"""The console's summaries: importance finds the hyperparameter that matters; grids and
samples stay bounded whatever the number of jobs."""

from __future__ import annotations

import numpy as np

from amtune.engine.analysis import (
    best_so_far_steps,
    downsample_curve,
    grid_means,
    importance,
    sample_indices,
)


def test_importance_ranks_the_hyperparameter_that_drives_the_objective_first() -> None:
    rng = np.random.default_rng(0)
    units = rng.random((500, 3))
    objectives = 8 * (units[:, 1] - 0.3) ** 2 + units[:, 2] + 0.01 * rng.standard_normal(500)
    shares = importance(units, objectives)
    assert int(np.argmax(shares)) == 1
    assert shares[0] < 0.03  # no effect: about the chance level, which is removed
    assert shares[2] > shares[0]
    assert np.all((shares >= 0) & (shares <= 1))


def test_importance_of_a_flat_objective_is_zero() -> None:
    units = np.random.default_rng(1).random((50, 2))
    assert np.all(importance(units, np.ones(50)) == 0)


def test_grid_means_averages_each_cell_and_leaves_empty_cells_none() -> None:
    x = np.array([0.05, 0.06, 0.95])
    y = np.array([0.05, 0.04, 0.95])
    grid = grid_means(x, y, np.array([1.0, 3.0, 7.0]), bins=2)
    assert grid == [[2.0, None], [None, 7.0]]


def test_sample_indices_keeps_the_asked_ones_and_the_limit() -> None:
    picked = sample_indices(10_000, 1000, keep=[4321, 7])
    assert len(picked) <= 1002 and {4321, 7} <= set(picked.tolist())
    assert picked[0] == 0 and picked[-1] == 9999
    assert sample_indices(5, 1000).tolist() == [0, 1, 2, 3, 4]


def test_best_so_far_keeps_only_improvements_in_time_order() -> None:
    steps = best_so_far_steps(np.array([3.0, 1.0, 2.0, 4.0]), np.array([0.5, 2.0, 1.0, 0.7]))
    assert steps == [(1.0, 2.0), (2.0, 1.0), (3.0, 0.5)]


def test_downsampled_curve_ends_where_the_curve_ends() -> None:
    steps = np.arange(10_000, dtype=float)
    values = 1 / (1 + steps)
    curve = downsample_curve(steps, values, 200)
    assert len(curve) <= 200
    assert curve[-1, 0] == 9999 and curve[-1, 1] == values[-1]
    assert np.all(np.diff(curve[:, 0]) > 0)
