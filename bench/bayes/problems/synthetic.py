"""Synthetic problems with known optima.

Branin, Hartmann-6 and Ackley-5 are the classic continuous test functions; the two ``mixed_*``
problems exercise what the classics do not: integer ranges (linear and log), categoricals that
change where the optimum lies, Logarithmic and ReverseLogarithmic continuous ranges.

Ackley's optimum is moved away from the centre of its box: an optimiser that starts at the
centre (Vizier, Syne Tune) would otherwise score 100 on its first evaluation, which measures
nothing. Hartmann-6 is posed as a maximisation (the usual sign in HPO papers) so that the
``Maximize`` path of the harness and of the service is exercised.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Config, Problem, categorical, continuous, integer, ranges


def _f(config: Config, name: str) -> float:
    return float(config[name])


# --------------------------------------------------------------------------- Branin
BRANIN_OPT = 0.39788735772973816


def _branin(config: Config) -> float:
    x1, x2 = _f(config, "x1"), _f(config, "x2")
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def branin() -> Problem:
    return Problem(
        name="branin",
        parameter_ranges=ranges(continuous_=[continuous("x1", -5, 10), continuous("x2", 0, 15)]),
        objective=_branin,
        metric_name="branin",
        optimum=BRANIN_OPT,
        notes="2-d, three global minima",
    )


# --------------------------------------------------------------------------- Hartmann-6
HARTMANN6_OPT = 3.322368011415515
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_H_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def _hartmann6(config: Config) -> float:
    x = np.array([_f(config, f"x{i}") for i in range(1, 7)])
    inner = np.sum(_H_A * (x - _H_P) ** 2, axis=1)
    return float(np.sum(_H_ALPHA * np.exp(-inner)))  # positive: maximise


def hartmann6() -> Problem:
    return Problem(
        name="hartmann6",
        parameter_ranges=ranges(continuous_=[continuous(f"x{i}", 0, 1) for i in range(1, 7)]),
        objective=_hartmann6,
        metric_name="hartmann6",
        maximize=True,
        optimum=HARTMANN6_OPT,
        failure_value=0.0,
        notes="6-d, maximised (max 3.32237)",
    )


# --------------------------------------------------------------------------- Ackley-5
ACKLEY_SHIFT = (7.3, -11.9, 3.4, 16.2, -5.7)
ACKLEY_BOUND = 32.768


def _ackley5(config: Config) -> float:
    z = np.array([_f(config, f"x{i}") for i in range(1, 6)]) - np.array(ACKLEY_SHIFT)
    a = -20.0 * math.exp(-0.2 * math.sqrt(float(np.mean(z**2))))
    b = -math.exp(float(np.mean(np.cos(2 * math.pi * z))))
    return a + b + 20.0 + math.e


def ackley5() -> Problem:
    return Problem(
        name="ackley5",
        parameter_ranges=ranges(
            continuous_=[continuous(f"x{i}", -ACKLEY_BOUND, ACKLEY_BOUND) for i in range(1, 6)]
        ),
        objective=_ackley5,
        metric_name="ackley5",
        optimum=0.0,
        notes="5-d, optimum shifted off-centre to " + str(ACKLEY_SHIFT),
    )


# --------------------------------------------------------------------------- mixed: offsets
# A rotated, ill-conditioned bowl in (x1, x2) whose centre and floor depend on a categorical,
# times a log-scaled learning-rate-like term with ripples, plus an integer term.
_OFFSET_CENTRES = {"a": (1.5, -2.0), "b": (-2.5, 1.0), "c": (0.5, 3.0), "d": (-3.0, -3.5)}
_OFFSET_FLOORS = {"a": 0.6, "b": 0.0, "c": 0.3, "d": 1.2}
_ROT = math.radians(30.0)
_LR_OPT_LOG10 = -3.3
_K_OPT = 11


def _mixed_offset(config: Config) -> float:
    cat = config["offset"]
    cx, cy = _OFFSET_CENTRES[cat]
    dx, dy = _f(config, "x1") - cx, _f(config, "x2") - cy
    z0 = math.cos(_ROT) * dx + math.sin(_ROT) * dy
    z1 = -math.sin(_ROT) * dx + math.cos(_ROT) * dy
    t = math.log10(_f(config, "lr")) - _LR_OPT_LOG10
    k = int(config["k"])
    return (
        0.2 * z0**2
        + 2.0 * z1**2
        + 1.5 * t**2
        + 0.5 * (1 - math.cos(2 * math.pi * t))
        + 0.05 * (k - _K_OPT) ** 2
        + _OFFSET_FLOORS[cat]
    )


def mixed_offset() -> Problem:
    return Problem(
        name="mixed_offset",
        parameter_ranges=ranges(
            integers=[integer("k", 1, 16)],
            continuous_=[
                continuous("x1", -5, 5),
                continuous("x2", -5, 5),
                continuous("lr", 1e-5, 1.0, "Logarithmic"),
            ],
            categoricals=[categorical("offset", ["a", "b", "c", "d"])],
        ),
        objective=_mixed_offset,
        metric_name="mixed_offset",
        optimum=0.0,
        notes="5-d: int, 2 linear + 1 log continuous, 4-way categorical moving the optimum",
    )


# --------------------------------------------------------------------------- mixed: network-like
# A made-up "training loss" over the kinds of ranges real jobs use: momentum near 1
# (ReverseLogarithmic), weight decay (Logarithmic), batch size (integer, Logarithmic), width
# (integer, Linear) and an activation (categorical). Momentum and decay interact.
_M_OPT_LOG10 = math.log10(1 - 0.995)  # best momentum 0.995
_D_OPT_LOG10 = -4.0
_B_OPT = 96
_W_OPT = 200
_ACT_PENALTY = {"relu": 0.1, "tanh": 0.3, "gelu": 0.0, "sigmoid": 0.8}


def _mixed_revlog(config: Config) -> float:
    m = math.log10(1 - _f(config, "momentum")) - _M_OPT_LOG10
    d = math.log10(_f(config, "decay")) - _D_OPT_LOG10
    b = math.log2(int(config["batch"]) / _B_OPT)
    w = (int(config["width"]) - _W_OPT) / 100.0
    return m**2 + 1.2 * m * d + d**2 + 0.3 * b**2 + w**2 + _ACT_PENALTY[config["activation"]]


def mixed_revlog() -> Problem:
    return Problem(
        name="mixed_revlog",
        parameter_ranges=ranges(
            integers=[integer("batch", 8, 1024, "Logarithmic"), integer("width", 16, 512)],
            continuous_=[
                continuous("momentum", 0.5, 0.9999, "ReverseLogarithmic"),
                continuous("decay", 1e-7, 1e-1, "Logarithmic"),
            ],
            categoricals=[categorical("activation", ["relu", "tanh", "gelu", "sigmoid"])],
        ),
        objective=_mixed_revlog,
        metric_name="mixed_revlog",
        optimum=0.0,
        notes="5-d: log int, linear int, ReverseLogarithmic + log continuous, categorical",
    )


SYNTHETIC = {
    "branin": branin,
    "hartmann6": hartmann6,
    "ackley5": ackley5,
    "mixed_offset": mixed_offset,
    "mixed_revlog": mixed_revlog,
}
