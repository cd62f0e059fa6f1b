"""Hyperparameter draws by hit-and-run slice sampling (``bayesian.hyper_samples``)."""

from __future__ import annotations

import numpy as np

from amtune.engine.strategies.bayesian.gp import (
    LOG_LS_BOUNDS,
    LOG_NOISE_BOUNDS,
    LOG_SF2_BOUNDS,
    fit_hyper,
    neg_log_posterior,
)
from amtune.engine.strategies.bayesian.hyper_samples import hit_and_run_draws


def _step_data() -> tuple[np.ndarray, np.ndarray]:
    """Eight points of a step function in one dimension, standardised."""
    x = np.linspace(0.05, 0.95, 8)[:, None]
    y = np.where(x[:, 0] < 0.5, -1.0, 1.0) + 0.1 * np.sin(17.0 * x[:, 0])
    return x, (y - y.mean()) / y.std()


def test_draws_follow_the_posterior_of_the_hyperparameters() -> None:
    """The chain's mean and spread of every log-parameter match the posterior's, integrated
    on a grid; a chain that stayed at the MAP point has no spread and fails."""
    x, y = _step_data()
    axes = [
        np.linspace(*LOG_LS_BOUNDS, 36),
        np.linspace(*LOG_SF2_BOUNDS, 24),
        np.linspace(*LOG_NOISE_BOUNDS, 30),
    ]
    mesh = np.stack([m.ravel() for m in np.meshgrid(*axes, indexing="ij")], axis=1)
    log_p = -np.array([neg_log_posterior(t, x, y, with_grad=False)[0] for t in mesh])
    weight = np.exp(log_p - log_p.max())
    weight /= weight.sum()
    grid_mean = weight @ mesh
    grid_sd = np.sqrt(weight @ (mesh - grid_mean) ** 2)

    hyper = fit_hyper(x, y, np.random.default_rng(0))
    draws = hit_and_run_draws(hyper, x, y, np.random.default_rng(1), n_draws=1500, thin=1)
    chain = np.log([[d.lengthscales[0], d.signal_var, d.noise_var] for d in draws])[300:]

    np.testing.assert_allclose(chain.mean(axis=0), grid_mean, atol=0.35 * grid_sd.max())
    np.testing.assert_allclose(chain.std(axis=0), grid_sd, rtol=0.3)


def test_draws_stay_in_the_fit_bounds_and_repeat_for_a_seed() -> None:
    x, y = _step_data()
    hyper = fit_hyper(x, y, np.random.default_rng(0))
    first = hit_and_run_draws(hyper, x, y, np.random.default_rng(7))
    again = hit_and_run_draws(hyper, x, y, np.random.default_rng(7))
    assert len(first) == 4
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.lengthscales, b.lengthscales)
        assert (a.signal_var, a.noise_var) == (b.signal_var, b.noise_var)
    for d in first:
        assert np.exp(LOG_LS_BOUNDS[0]) <= d.lengthscales[0] <= np.exp(LOG_LS_BOUNDS[1])
        assert np.exp(LOG_SF2_BOUNDS[0]) <= d.signal_var <= np.exp(LOG_SF2_BOUNDS[1])
        assert np.exp(LOG_NOISE_BOUNDS[0]) <= d.noise_var <= np.exp(LOG_NOISE_BOUNDS[1])
