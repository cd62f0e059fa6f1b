"""Matern-5/2 ARD kernel and the derivatives the rest of the engine needs.

Everything works on *scaled* inputs (each column divided by its lengthscale), so one
squared-distance matrix serves the kernel, its hyperparameter gradient and its input gradient.
Matern-5/2 is the common choice of every strong GP tuner (AMT/Syne Tune, Optuna, Vizier): twice
differentiable, so it models realistic loss surfaces without the over-smoothness of the RBF.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

SQRT5 = float(np.sqrt(5.0))


def scaled_sqdist(a: FloatArray, b: FloatArray) -> FloatArray:
    """Squared Euclidean distances between rows of ``a`` and ``b`` (already lengthscale-scaled)."""
    aa = np.einsum("ij,ij->i", a, a)
    bb = np.einsum("ij,ij->i", b, b)
    d2 = aa[:, None] + bb[None, :] - 2.0 * (a @ b.T)
    return np.asarray(np.maximum(d2, 0.0), dtype=np.float64)


def matern52_from_sqdist(d2: FloatArray, signal_var: float) -> tuple[FloatArray, FloatArray]:
    """Kernel values and ``G = signal_var * 5/3 * (1 + sqrt5 r) exp(-sqrt5 r)``.

    ``G`` is the common factor of every derivative: d k / d log(l_d) = G * (dx_d / l_d)^2 and
    d k / d x_d = -G * dx_d / l_d^2. Returning it avoids a second pass over the matrix.
    """
    r = np.sqrt(d2)
    e = np.exp(-SQRT5 * r)
    poly = 1.0 + SQRT5 * r
    k = signal_var * (poly + (5.0 / 3.0) * d2) * e
    g = signal_var * (5.0 / 3.0) * poly * e
    return k, g


def matern52(
    a: FloatArray, b: FloatArray, lengthscales: FloatArray, signal_var: float
) -> FloatArray:
    """Cross-covariance matrix k(a, b)."""
    return matern52_from_sqdist(scaled_sqdist(a / lengthscales, b / lengthscales), signal_var)[0]
