"""Multi-fidelity problems: a configuration's whole learning curve, one value per step.

A problem maps a configuration (AMT strings) to its curve: ``curve[t - 1]`` is the objective to
MINIMISE after ``t`` steps of training (epochs, or trees for boosting), ``t = 1 .. max_resource``.
Every method in the benchmark sees the same curves, step by step, so only the search and the
stopping rule differ.

Two kinds:

* ``crossing``: a synthetic family in closed form (instant). Fast starters finish worse: a
  learning-rate-like coordinate speeds the curve up and raises its floor, so early rungs favour
  configurations that lose at the end, as real learning curves do (and as a benchmark that
  rewards stopping early must not ignore).
* scikit-learn models trained step by step on data sets scikit-learn ships (no download):
  SGD logistic regression (``partial_fit`` per epoch) on digits, a one-hidden-layer MLP
  (``partial_fit`` per epoch) on digits, gradient boosting on breast cancer (one step per tree,
  ``staged_predict_proba``). Validation log loss on a fixed held-out split. Training a model per
  suggestion would make ten seeds of seven methods take hours, so each problem is *tabulated*:
  the curves of a fixed set of Sobol configurations are computed once and cached on disk, and a
  suggested configuration gets the curve of its nearest tabulated neighbour in the unit cube
  (the usual practice of tabular HPO benchmarks; the optimum is the table's best final value).
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from amtune.engine.spaces import Config, SearchSpace

FloatArray = np.ndarray

CACHE_DIR = Path(
    os.environ.get("AMTUNE_BENCH_CACHE", Path.home() / ".cache" / "amtune-bench" / "multifidelity")
)
TABLE_SIZE = 256


@dataclass
class Problem:
    """A search space, a maximum resource and each configuration's learning curve."""

    name: str
    ranges: dict[str, Any]
    """AMT ParameterRanges."""
    max_resource: int
    curve_of: Callable[[FloatArray], FloatArray]
    """Unit-cube point -> curve (length ``max_resource``, values to minimise)."""
    optimum: float
    """The best final value any configuration reaches (score 100)."""
    reference: float
    """The median final value of a random configuration (score 0)."""
    space: SearchSpace = field(init=False)

    def __post_init__(self) -> None:
        self.space = SearchSpace.from_parameter_ranges(self.ranges)

    def curve(self, config: Config) -> FloatArray:
        return self.curve_of(self.space.to_unit(config))

    def score(self, value: float) -> float:
        """100 at the optimum, 0 at a random configuration's median or worse (clipped there, as
        Bayesmark clips; also the score of a run with no ended job yet)."""
        if not np.isfinite(value):
            return 0.0
        return 100.0 * (
            1.0
            - min(value - self.optimum, self.reference - self.optimum)
            / (self.reference - self.optimum)
        )


def _continuous(name: str, low: float, high: float, scaling: str = "Linear") -> dict[str, str]:
    return {"Name": name, "MinValue": repr(low), "MaxValue": repr(high), "ScalingType": scaling}


def _integer(name: str, low: int, high: int, scaling: str = "Linear") -> dict[str, str]:
    return {"Name": name, "MinValue": str(low), "MaxValue": str(high), "ScalingType": scaling}


# --- the synthetic crossing family ------------------------------------------------------------


def _crossing_curve(u: FloatArray, max_resource: int) -> FloatArray:
    """Coordinates 0-2 set the floor (a rippled bowl); coordinate 3, a learning-rate-like knob,
    sets the speed and adds to the floor, so curves cross between the first rungs and the last."""
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    centre = np.array([0.3, 0.65, 0.45])
    d = u[:3] - centre
    floor = float(np.sum(d**2) + 0.1 * np.sum(1 - np.cos(6 * np.pi * d)))
    lr = float(u[3])
    floor += 0.3 * lr**2
    rate = 0.5 + 6.0 * lr
    t = np.arange(1, max_resource + 1) / max_resource
    start = 1.5
    digest = hashlib.sha256(np.round(u, 6).tobytes()).digest()
    noise = np.random.default_rng(int.from_bytes(digest[:8], "little")).normal(
        0.0, 0.005, max_resource
    )
    return floor + (start - floor) * np.exp(-rate * 5 * t) + noise


def crossing(max_resource: int = 27) -> Problem:
    ranges = {
        "ContinuousParameterRanges": [
            _continuous("x0", 0.0, 1.0),
            _continuous("x1", 0.0, 1.0),
            _continuous("x2", 0.0, 1.0),
            _continuous("lr", 0.001, 1.0, "Logarithmic"),
        ]
    }
    sample = qmc.Sobol(4, seed=0).random(4096)
    finals = np.array([_crossing_curve(u, max_resource)[-1] for u in sample])
    # coordinates 0-2 at the bowl's centre are best whatever the speed; scan the speed
    lrs = np.linspace(0.0, 1.0, 2001)
    best = min(
        float(
            np.min([_crossing_curve(np.array([0.3, 0.65, 0.45, v]), max_resource)[-1] for v in lrs])
        ),
        float(finals.min()),
    )
    return Problem(
        name=f"crossing-{max_resource}",
        ranges=ranges,
        max_resource=max_resource,
        curve_of=lambda u: _crossing_curve(u, max_resource),
        optimum=best,
        reference=float(np.median(finals)),
    )


# --- tabulated scikit-learn problems -------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    units: FloatArray
    curves: FloatArray

    def lookup(self, u: FloatArray) -> FloatArray:
        i = int(np.argmin(np.sum((self.units - np.asarray(u)) ** 2, axis=1)))
        return np.asarray(self.curves[i])


@functools.cache
def _split(loader: Callable[..., Any]) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = loader(return_X_y=True)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_tr)
    return scaler.transform(x_tr), scaler.transform(x_va), y_tr, y_va


def _nll(model: Any, x: FloatArray, y: FloatArray, classes: FloatArray) -> float:
    from sklearn.metrics import log_loss

    p = np.clip(model.predict_proba(x), 1e-6, 1.0)
    return float(min(log_loss(y, p / p.sum(axis=1, keepdims=True), labels=classes), 10.0))


def _epoch_curve(model: Any, max_resource: int) -> FloatArray:
    """Validation log loss on digits after each of ``max_resource`` epochs of ``partial_fit``."""
    import warnings

    from sklearn.datasets import load_digits

    x_tr, x_va, y_tr, y_va = _split(load_digits)
    classes = np.unique(y_tr)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(max_resource):
            model.partial_fit(x_tr, y_tr, classes=classes)
            out.append(_nll(model, x_va, y_va, classes))
    return np.array(out)


def _sgd_curve(config: Config, max_resource: int) -> FloatArray:
    from sklearn.linear_model import SGDClassifier

    model = SGDClassifier(
        loss="log_loss",
        alpha=float(config["alpha"]),
        learning_rate="invscaling",
        eta0=float(config["eta0"]),
        power_t=float(config["power_t"]),
        random_state=0,
    )
    return _epoch_curve(model, max_resource)


def _mlp_curve(config: Config, max_resource: int) -> FloatArray:
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=(int(config["units"]),),
        alpha=float(config["alpha"]),
        learning_rate_init=float(config["lr"]),
        batch_size=int(config["batch_size"]),
        random_state=0,
    )
    return _epoch_curve(model, max_resource)


def _gb_curve(config: Config, max_resource: int) -> FloatArray:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier

    x_tr, x_va, y_tr, y_va = _split(load_breast_cancer)
    classes = np.unique(y_tr)
    model = GradientBoostingClassifier(
        n_estimators=max_resource,
        learning_rate=float(config["learning_rate"]),
        max_depth=int(config["max_depth"]),
        subsample=float(config["subsample"]),
        max_features=float(config["max_features"]),
        random_state=0,
    ).fit(x_tr, y_tr)
    out = []
    for staged in model.staged_predict_proba(x_va):
        p = np.clip(staged, 1e-6, 1.0)
        out.append(
            float(
                min(-np.mean(np.log(p[np.arange(len(y_va)), np.searchsorted(classes, y_va)])), 10.0)
            )
        )
    return np.array(out)


_SKLEARN: dict[str, tuple[dict[str, Any], int, Callable[[Config, int], FloatArray]]] = {
    "sgd-digits": (
        {
            "ContinuousParameterRanges": [
                _continuous("alpha", 1e-6, 1e-1, "Logarithmic"),
                _continuous("eta0", 1e-4, 1.0, "Logarithmic"),
                _continuous("power_t", 0.05, 0.9),
            ]
        },
        27,
        _sgd_curve,
    ),
    "mlp-digits": (
        {
            "IntegerParameterRanges": [
                _integer("units", 8, 128, "Logarithmic"),
                _integer("batch_size", 16, 256, "Logarithmic"),
            ],
            "ContinuousParameterRanges": [
                _continuous("alpha", 1e-6, 1e-1, "Logarithmic"),
                _continuous("lr", 1e-4, 1e-1, "Logarithmic"),
            ],
        },
        27,
        _mlp_curve,
    ),
    "gb-breast": (
        {
            "IntegerParameterRanges": [_integer("max_depth", 1, 6)],
            "ContinuousParameterRanges": [
                _continuous("learning_rate", 0.005, 1.0, "Logarithmic"),
                _continuous("subsample", 0.3, 1.0),
                _continuous("max_features", 0.1, 1.0),
            ],
        },
        81,
        _gb_curve,
    ),
}


def _table(name: str, size: int, log: Callable[[str], None]) -> _Table:
    ranges, max_resource, curve_fn = _SKLEARN[name]
    space = SearchSpace.from_parameter_ranges(ranges)
    path = CACHE_DIR / f"{name}-{size}.npz"
    if path.exists():
        data = np.load(path)
        return _Table(data["units"], data["curves"])
    units = qmc.Sobol(space.dim, seed=0).random(size)
    configs = [space.from_unit(u) for u in units]
    units = np.array([space.to_unit(c) for c in configs])
    curves = []
    for i, c in enumerate(configs):
        curves.append(curve_fn(c, max_resource))
        if (i + 1) % 32 == 0:
            log(f"{name}: tabulated {i + 1}/{size} configurations")
    table = _Table(units, np.array(curves))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, units=table.units, curves=table.curves)
    return table


STRIDE = {"gb-breast": 3}
"""Trees per step: boosting is tabulated per tree and stepped three trees at a time, so that
every problem has 27 steps and ASHA the same rungs (1, 3, 9, 27)."""


def sklearn_problem(
    name: str, size: int = TABLE_SIZE, log: Callable[[str], None] = print
) -> Problem:
    ranges, _, _ = _SKLEARN[name]
    full = _table(name, size, log)
    stride = STRIDE.get(name, 1)
    table = _Table(full.units, full.curves[:, stride - 1 :: stride])
    max_resource = int(table.curves.shape[1])
    finals = table.curves[:, -1]
    return Problem(
        name=name,
        ranges=ranges,
        max_resource=max_resource,
        curve_of=table.lookup,
        optimum=float(finals.min()),
        reference=float(np.median(finals)),
    )


PROBLEMS = ("crossing-27", "sgd-digits", "mlp-digits", "gb-breast")


def get_problem(name: str, log: Callable[[str], None] = print) -> Problem:
    """A problem by name: ``crossing-<max_resource>`` or one of the scikit-learn tables."""
    if name.startswith("crossing-"):
        return crossing(int(name.split("-", 1)[1]))
    if name in _SKLEARN:
        return sklearn_problem(name, log=log)
    raise KeyError(f"unknown problem {name!r}; known: {', '.join(PROBLEMS)}")


def crossing_count(problem: Problem, level: int, n: int = 512) -> float:
    """How often early values mislead: the fraction of random pairs whose order at ``level``
    differs from their final order (0 = early values rank perfectly)."""
    rng = np.random.default_rng(0)
    u = rng.uniform(size=(n, problem.space.dim))
    curves = np.array([problem.curve_of(x) for x in u])
    a, b = rng.integers(0, n, size=(2, 4 * n))
    early = np.sign(curves[a, level - 1] - curves[b, level - 1])
    final = np.sign(curves[a, -1] - curves[b, -1])
    return float(np.mean(early != final))
