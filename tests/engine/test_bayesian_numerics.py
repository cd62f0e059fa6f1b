"""Numerical building blocks of the Bayesian engine: log-EI, GP gradients, target warping."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import approx_fprime
from scipy.stats import norm

from amtune.engine.strategies.bayesian.acquisition import log_ei, log_ei_with_grad, log_h
from amtune.engine.strategies.bayesian.gp import (
    ModelError,
    Posterior,
    fit_hyper,
    neg_log_posterior,
    robust_cholesky,
)
from amtune.engine.strategies.bayesian.transforms import warp_targets


def test_log_ei_matches_the_closed_form_where_that_is_accurate() -> None:
    z = np.linspace(-8.0, 5.0, 200)
    direct = np.log(norm.pdf(z) + z * norm.cdf(z))
    np.testing.assert_allclose(log_h(z), direct, rtol=1e-9, atol=1e-12)


def test_log_ei_stays_finite_and_ordered_far_below_the_incumbent() -> None:
    z = -np.logspace(0.5, 6, 60)  # the closed form underflows to log(0) from about z = -38
    values = log_h(z)
    assert np.all(np.isfinite(values))
    assert np.all(np.diff(values) < 0)  # worse z, lower log-EI: the ranking survives
    # asymptote: log h(z) ~ -z^2/2 - log(sqrt(2 pi)) - 2 log|z|
    big = -1e4
    expected = -0.5 * big**2 - 0.5 * np.log(2 * np.pi) - 2 * np.log(-big)
    assert log_h(np.array([big]))[0] == pytest.approx(expected, rel=1e-9)


def _posterior(seed: int = 0, n: int = 25, dim: int = 3) -> Posterior:
    rng = np.random.default_rng(seed)
    x = rng.random((n, dim))
    y = np.sin(6 * x[:, 0]) + x[:, 1] ** 2
    y = (y - y.mean()) / y.std()
    return Posterior(x, y, fit_hyper(x, y, rng))


def test_log_ei_gradient_matches_finite_differences() -> None:
    post = _posterior()
    best = float(post.y.min())
    x0 = np.array([0.3, 0.6, 0.2])

    def f(x: np.ndarray) -> float:
        mean, var = post.predict(x[None, :])
        return float(log_ei(mean, var, best)[0])

    mean, var, dmean, dvar = post.predict_with_grad(x0[None, :])
    _, grad = log_ei_with_grad(mean, var, dmean, dvar, best)
    np.testing.assert_allclose(grad[0], approx_fprime(x0, f, 1e-7), rtol=1e-4, atol=1e-6)


def test_marginal_likelihood_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((30, 4))
    y = np.cos(4 * x[:, 2]) + x[:, 0]
    y = (y - y.mean()) / y.std()
    theta = np.array([-0.7, 0.2, -1.0, 1.5, 0.3, -5.0])
    _, grad = neg_log_posterior(theta, x, y)
    numeric = approx_fprime(theta, lambda t: neg_log_posterior(t, x, y)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_posterior_interpolates_observations_with_small_noise() -> None:
    post = _posterior(n=20)
    mean, var = post.predict(post.x)
    assert np.max(np.abs(mean - post.y)) < 0.2
    assert np.all(var < 0.1)


def test_cholesky_escalates_jitter_for_duplicated_points() -> None:
    x = np.vstack([np.full((5, 2), 0.5), np.random.default_rng(0).random((5, 2))])
    k = np.exp(-((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))  # singular: repeated rows
    chol = robust_cholesky(k)
    assert np.all(np.isfinite(chol))


def test_cholesky_of_a_non_finite_matrix_is_a_model_error() -> None:
    with pytest.raises(ModelError):
        robust_cholesky(np.array([[1.0, np.nan], [np.nan, 1.0]]))


def test_warped_targets_keep_order_and_scale_despite_an_outlier() -> None:
    y = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1e15])
    z = warp_targets(y)
    assert np.all(np.diff(z) > 0)  # order preserved
    assert abs(z.mean()) < 1e-9 and z.std() == pytest.approx(1.0)
    # the good values are not squashed together by the outlier
    assert z[4] - z[0] > 0.5


def test_failed_trials_get_the_worst_warped_value() -> None:
    y = np.array([3.0, np.nan, 1.0, 2.0, np.nan, 5.0])
    z = warp_targets(y)
    finite = z[[0, 2, 3, 5]]
    assert z[1] == z[4] == finite.max()
    assert list(np.argsort(finite)) == [1, 2, 0, 3]


def test_constant_and_all_failed_targets_are_finite() -> None:
    assert np.all(warp_targets(np.full(6, 2.5)) == 0.0)
    assert np.all(np.isfinite(warp_targets(np.full(4, np.nan))))


def test_posterior_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((20, 2))
    y = np.sqrt(x[:, 0]) - x[:, 1]
    y = (y - y.mean()) / y.std()
    post = Posterior(x, y, fit_hyper(x, y, rng))
    x0 = np.array([0.4, 0.55])
    _, _, dmean, dvar = post.predict_with_grad(x0[None, :])
    num_mean = approx_fprime(x0, lambda v: float(post.predict(v[None, :])[0][0]), 1e-7)
    num_var = approx_fprime(x0, lambda v: float(post.predict(v[None, :])[1][0]), 1e-7)
    np.testing.assert_allclose(dmean[0], num_mean, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(dvar[0], num_var, rtol=1e-3, atol=1e-5)
