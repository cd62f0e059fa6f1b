"""Tree models tuned over integer parameters only: ``DT-int_*`` and ``RF-int_*``.

Bayesmark's DT and RF spaces have one integer (``max_depth``) and five fractions. What a user
tunes is more often counts: depth, leaf size, split size and how many features a split may
consider. Every parameter here is an integer, so the objective is a step function of all of
them, the kind of problem on which a model must not stall on a plateau:

* ``max_depth`` 1-20 (Linear),
* ``min_samples_split`` 2-40 (Linear),
* ``min_samples_leaf`` 1-64 (Logarithmic, as a leaf size is usually searched),
* ``max_features`` 1 to the number of features (Linear; a count, not a fraction).

Data, as scikit-learn ships or generates it offline:

* ``friedman1``: ``make_friedman1(n_samples=400, n_features=10, noise=1.0, random_state=0)``,
  regression on 5 informative and 5 pure-noise features (so ``max_features`` matters), metric
  mean squared error;
* ``breast``: breast cancer, 30 features, the same 80 % training part as Bayesmark's problems,
  metric log loss (NLL).

Cheap by construction: 3-fold cross-validation (shuffled with ``random_state=0``; stratified
for classification), random forests of 10 trees, ``n_jobs=1``, every ``random_state`` 0, so
the objective is a deterministic function of the config and a 64-evaluation run costs a few
seconds of CPU. A crash becomes a deliberately poor value, as in the Bayesmark problems.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from .base import Config, Problem, integer, ranges
from .sklearn_tasks import _data as bayesmark_data

CV_FOLDS = 3
FOREST_TREES = 10
TREE_MODELS = ("DT-int", "RF-int")
TREE_DATASETS = {"friedman1": ("reg", "mse"), "breast": ("clf", "nll")}
_SCORER = {"mse": "neg_mean_squared_error", "nll": "neg_log_loss"}


@cache
def _tree_data(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    if dataset == "friedman1":
        from sklearn.datasets import make_friedman1

        x, y = make_friedman1(n_samples=400, n_features=10, noise=1.0, random_state=0)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return bayesmark_data(dataset)


def _space(n_features: int) -> dict[str, Any]:
    return ranges(
        integers=[
            integer("max_depth", 1, 20),
            integer("min_samples_split", 2, 40),
            integer("min_samples_leaf", 1, 64, "Logarithmic"),
            integer("max_features", 1, n_features),
        ]
    )


@dataclass(frozen=True)
class _TreeObjective:
    """Picklable objective: mean 3-fold CV metric of one tree model on one data set."""

    model: str
    dataset: str

    def __call__(self, config: Config) -> float:
        from sklearn import ensemble, tree
        from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

        task, metric = TREE_DATASETS[self.dataset]
        x, y = _tree_data(self.dataset)
        params = {name: int(value) for name, value in config.items()}
        clf = task == "clf"
        est: Any
        if self.model == "DT-int":
            cls = tree.DecisionTreeClassifier if clf else tree.DecisionTreeRegressor
            est = cls(random_state=0, **params)
        else:
            forest = ensemble.RandomForestClassifier if clf else ensemble.RandomForestRegressor
            est = forest(n_estimators=FOREST_TREES, n_jobs=1, random_state=0, **params)
        splitter = StratifiedKFold if clf else KFold
        folds = splitter(n_splits=CV_FOLDS, shuffle=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                scores = cross_val_score(
                    est, x, y, scoring=_SCORER[metric], cv=folds, error_score="raise"
                )
            except (ValueError, ArithmeticError):
                return math.nan
        return -float(np.mean(scores))  # scorers are "higher is better"


def _failure_value(dataset: str) -> float:
    """Poor on purpose: four times the variance (MSE), three times the prior's NLL."""
    task, _ = TREE_DATASETS[dataset]
    _, y = _tree_data(dataset)
    if task == "clf":
        return 3.0 * math.log(len(np.unique(y)))
    return 4.0 * float(np.var(y))


def tree_problem(name: str) -> Problem:
    """``<DT-int|RF-int>_<friedman1|breast>_<metric>`` -> Problem; ``KeyError`` otherwise."""
    model, dataset, metric = name.split("_")
    if model not in TREE_MODELS or TREE_DATASETS.get(dataset, ("", ""))[1] != metric:
        raise KeyError(name)
    x, _ = _tree_data(dataset)
    return Problem(
        name=name,
        parameter_ranges=_space(x.shape[1]),
        objective=_TreeObjective(model, dataset),
        metric_name=metric,
        optimum=None,
        failure_value=_failure_value(dataset),
        family="sklearn",
        notes=f"{model[:2]} on {dataset}, integer parameters only, {CV_FOLDS}-fold CV {metric}",
    )


def tree_problem_names() -> list[str]:
    return [
        f"{model}_{dataset}_{metric}"
        for model in TREE_MODELS
        for dataset, (_, metric) in TREE_DATASETS.items()
    ]
