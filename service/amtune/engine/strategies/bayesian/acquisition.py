"""Log expected improvement (for minimisation), numerically safe, with its gradient.

EI = sigma * h(z) with z = (best - mu) / sigma and h(z) = phi(z) + z Phi(z). For z far below
zero h underflows long before EI stops carrying ranking information, so log h is computed in
three regimes (after Ament et al., "Unexpected improvements to expected improvement", 2023):
direct for z > -1; through the scaled complementary error function for -1e3 < z <= -1; the
asymptote -z^2/2 - log sqrt(2 pi) - 2 log|z| below. The gradient uses
d log h / dz = Phi(z) / h(z) = exp(log Phi(z) - log h(z)), which stays finite everywhere.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

from .kernel import FloatArray

LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
LOG_SQRT_PI_2 = float(0.5 * np.log(np.pi / 2.0))


def log_h(z: FloatArray) -> FloatArray:
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    hi = z > -1.0
    zh = z[hi]
    out[hi] = np.log(np.exp(-0.5 * zh * zh - LOG_SQRT_2PI) + zh * ndtr(zh))
    mid = (~hi) & (z > -1e3)
    zm = z[mid]
    # h(z) = phi(z) * (1 - |z| * Phi(z)/phi(z)); Phi(z)/phi(z) = sqrt(pi/2) erfcx(-z/sqrt2)
    log_ratio = np.log(erfcx(-zm / np.sqrt(2.0)) * -zm) + LOG_SQRT_PI_2
    out[mid] = -0.5 * zm * zm - LOG_SQRT_2PI + _log1mexp(log_ratio)
    lo = z <= -1e3
    zl = z[lo]
    out[lo] = -0.5 * zl * zl - LOG_SQRT_2PI - 2.0 * np.log(-zl)
    return out


def _log1mexp(a: FloatArray) -> FloatArray:
    """log(1 - exp(a)) for a < 0, accurate for a near 0 and far below it."""
    a = np.minimum(a, -1e-300)
    return np.where(a > -np.log(2.0), np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


def log_ei(mean: FloatArray, var: FloatArray, best: float) -> FloatArray:
    sd = np.sqrt(var)
    z = (best - mean) / sd
    return np.log(sd) + log_h(z)


def log_ei_with_grad(
    mean: FloatArray, var: FloatArray, dmean: FloatArray, dvar: FloatArray, best: float
) -> tuple[FloatArray, FloatArray]:
    """log EI and its gradient given the posterior's input gradients (rows are points)."""
    sd = np.sqrt(var)
    z = (best - mean) / sd
    lh = log_h(z)
    dsd = dvar / (2.0 * sd[:, None])
    dlh_dz = np.exp(log_ndtr(z) - lh)
    dz = (-dmean - z[:, None] * dsd) / sd[:, None]
    grad = dsd / sd[:, None] + dlh_dz[:, None] * dz
    return np.log(sd) + lh, grad
