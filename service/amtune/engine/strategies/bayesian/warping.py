"""Kumaraswamy input warping: ``w(x) = 1 - (1 - x^a)^b`` per numeric input, ``a, b > 0``.

A monotone bijection of [0, 1] that can stretch one end of a range and compress the other, so a
stationary kernel can model a loss that changes fast near ``lr = 1e-5`` and slowly near ``1``
even after the declared log scaling (Snoek et al. 2014; HEBO's second most valuable component).
``a = b = 1`` is the identity, and the priors in :mod:`.gp` are centred there, so the warp only
bends inputs when the data ask for it.
"""

from __future__ import annotations

import numpy as np

from .kernel import FloatArray

EPS = 1e-9


def warp(x: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    xc = np.clip(x, EPS, 1.0 - EPS)
    return np.asarray(1.0 - (1.0 - xc**a) ** b, dtype=np.float64)


def warp_with_param_grads(
    x: FloatArray, a: FloatArray, b: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Warped values and their derivatives with respect to ``log a`` and ``log b``."""
    xc = np.clip(x, EPS, 1.0 - EPS)
    s = xc**a
    t = np.maximum(1.0 - s, EPS)
    tb = t**b
    w = 1.0 - tb
    d_log_a = a * b * (tb / t) * s * np.log(xc)
    d_log_b = -b * tb * np.log(t)
    return w, d_log_a, d_log_b


def warp_input_grad(x: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """d w / d x (elementwise), finite on the clipped interval."""
    xc = np.clip(x, EPS, 1.0 - EPS)
    s = xc**a
    t = np.maximum(1.0 - s, EPS)
    return np.asarray(a * b * (s / xc) * t ** (b - 1.0), dtype=np.float64)
