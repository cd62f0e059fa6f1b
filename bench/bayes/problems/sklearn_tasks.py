"""Bayesmark-style model tuning: scikit-learn models on the data sets scikit-learn ships.

Facts carried over from Bayesmark (uber/bayesmark, ``sklearn_funcs.py``): the nine model spaces,
the fixed model settings, 20% of the data held out (``train_test_split(test_size=0.2,
random_state=0)``) and the objective = mean 5-fold cross-validated loss on the other 80%,
the raw (unstandardised) toy data, the metrics nll/acc for classification and mae/mse for
regression. Problems are named ``<model>_<dataset>_<metric>`` as in Bayesmark.

Deviations, each because the AMT API or today's scikit-learn forces it:

* Bayesmark's ``logit`` reals have no AMT scaling. Fractions (``min_samples_split``,
  ``min_samples_leaf``, ``min_weight_fraction_leaf``, ``max_features``,
  ``validation_fraction``, ``power_t``, ``momentum``) become ``Linear``: their ranges are
  roughly symmetric around 0.5 where logit is nearly linear, and ``momentum`` in
  [0.001, 0.999] is symmetric so neither log form fits. ``beta_1`` in [0.5, 0.99] and
  ``beta_2`` in [0.9, 1 - 1e-6] crowd against 1, where logit behaves like -log(1 - x): they
  become ``ReverseLogarithmic``, AMT's scale for exactly that case.
* Booleans become categoricals ``["true", "false"]``; ``int`` with ``log`` space becomes an
  ``IntegerParameterRanges`` entry with ``Logarithmic`` scaling.
* ``normalize`` was removed from Lasso/Ridge in scikit-learn 1.2; it is rebuilt as a pipeline
  step doing what it did (centre, divide each column by its L2 norm, only with an intercept).
* ``multi_class="ovr"`` was removed from LogisticRegression: the liblinear models are wrapped
  in ``OneVsRestClassifier``, which is what liblinear did.
* Cheapness: MLPs get ``max_iter=MLP_MAX_ITER`` (Bayesmark leaves scikit-learn's 200; early
  stopping usually ends sooner, the cap bounds the slow tail), every model runs with
  ``n_jobs=1`` where it has one, and every random_state is 0 so the objective is a
  deterministic function of the config, identical for every optimiser. Nothing is cached.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from .base import Config, Problem, categorical, continuous, integer, ranges

CV_SPLITS = 5
MLP_MAX_ITER = 50
DATASETS = {"breast": "clf", "digits": "clf", "iris": "clf", "wine": "clf", "diabetes": "reg"}
METRICS = {"clf": ("nll", "acc"), "reg": ("mse", "mae")}
MODELS = ("kNN", "SVM", "DT", "RF", "MLP-adam", "MLP-sgd", "ada", "lasso", "linear")

_SCORER = {
    "nll": "neg_log_loss",
    "acc": "accuracy",
    "mae": "neg_mean_absolute_error",
    "mse": "neg_mean_squared_error",
}


# --------------------------------------------------------------------------- spaces
def _space(model: str, task: str) -> dict[str, Any]:
    """The Bayesmark space of ``model`` as AWS ParameterRanges."""
    mlp_common_int = [integer("hidden_layer_sizes", 50, 200), integer("batch_size", 10, 250)]
    if model == "kNN":
        return ranges(integers=[integer("n_neighbors", 1, 25), integer("p", 1, 4)])
    if model == "SVM":
        return ranges(
            continuous_=[
                continuous("C", 1.0, 1e3, "Logarithmic"),
                continuous("gamma", 1e-4, 1e-3, "Logarithmic"),
                continuous("tol", 1e-5, 1e-1, "Logarithmic"),
            ]
        )
    if model in ("DT", "RF"):
        return ranges(
            integers=[integer("max_depth", 1, 15)],
            continuous_=[
                continuous("max_features", 0.01, 0.99),
                continuous("min_samples_split", 0.01, 0.99),
                continuous("min_samples_leaf", 0.01, 0.49),
                continuous("min_weight_fraction_leaf", 0.01, 0.49),
                continuous("min_impurity_decrease", 0.0, 0.5),
            ],
        )
    if model == "MLP-adam":
        return ranges(
            integers=mlp_common_int,
            continuous_=[
                continuous("alpha", 1e-5, 1e1, "Logarithmic"),
                continuous("learning_rate_init", 1e-5, 1e-1, "Logarithmic"),
                continuous("tol", 1e-5, 1e-1, "Logarithmic"),
                continuous("validation_fraction", 0.1, 0.9),
                continuous("beta_1", 0.5, 0.99, "ReverseLogarithmic"),
                continuous("beta_2", 0.9, 1.0 - 1e-6, "ReverseLogarithmic"),
                continuous("epsilon", 1e-9, 1e-6, "Logarithmic"),
            ],
        )
    if model == "MLP-sgd":
        return ranges(
            integers=mlp_common_int,
            continuous_=[
                continuous("alpha", 1e-5, 1e1, "Logarithmic"),
                continuous("learning_rate_init", 1e-5, 1e-1, "Logarithmic"),
                continuous("power_t", 0.1, 0.9),
                continuous("tol", 1e-5, 1e-1, "Logarithmic"),
                continuous("momentum", 0.001, 0.999),
                continuous("validation_fraction", 0.1, 0.9),
            ],
        )
    if model == "ada":
        return ranges(
            integers=[integer("n_estimators", 10, 100)],
            continuous_=[continuous("learning_rate", 1e-4, 1e1, "Logarithmic")],
        )
    if model in ("lasso", "linear") and task == "clf":
        return ranges(
            continuous_=[
                continuous("C", 1e-2, 1e2, "Logarithmic"),
                continuous("intercept_scaling", 1e-2, 1e2, "Logarithmic"),
            ]
        )
    if model in ("lasso", "linear"):
        bools = [
            categorical("fit_intercept", ["true", "false"]),
            categorical("normalize", ["true", "false"]),
        ]
        tol_low = 1e-5 if model == "lasso" else 1e-4
        if model == "lasso":
            bools.append(categorical("positive", ["true", "false"]))
        return ranges(
            integers=[integer("max_iter", 10, 5000, "Logarithmic")],
            continuous_=[
                continuous("alpha", 1e-2, 1e2, "Logarithmic"),
                continuous("tol", tol_low, 1e-1, "Logarithmic"),
            ],
            categoricals=bools,
        )
    raise KeyError(model)


def _decode(parameter_ranges: dict[str, Any], config: Config) -> dict[str, Any]:
    """Strings a training job receives -> Python values for the scikit-learn constructor."""
    out: dict[str, Any] = {}
    for spec in parameter_ranges["IntegerParameterRanges"]:
        out[spec["Name"]] = int(config[spec["Name"]])
    for spec in parameter_ranges["ContinuousParameterRanges"]:
        out[spec["Name"]] = float(config[spec["Name"]])
    for spec in parameter_ranges["CategoricalParameterRanges"]:
        out[spec["Name"]] = config[spec["Name"]] == "true"
    return out


# --------------------------------------------------------------------------- models
def _l2_normalizer() -> Any:
    """The removed ``normalize=True``: centre, then divide each column by its L2 norm."""
    from sklearn.base import BaseEstimator, TransformerMixin

    class L2ColumnNormalizer(TransformerMixin, BaseEstimator):  # type: ignore[misc]
        def fit(self, x: np.ndarray, y: Any = None) -> L2ColumnNormalizer:
            self.mean_ = x.mean(axis=0)
            norm = np.sqrt(((x - self.mean_) ** 2).sum(axis=0))
            self.norm_ = np.where(norm == 0.0, 1.0, norm)
            return self

        def transform(self, x: np.ndarray) -> np.ndarray:
            out: np.ndarray = (x - self.mean_) / self.norm_
            return out

    return L2ColumnNormalizer()


def _build(model: str, task: str, p: dict[str, Any]) -> Any:
    from sklearn import ensemble, linear_model, neighbors, neural_network, svm, tree
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    clf = task == "clf"
    if model == "kNN":
        cls = neighbors.KNeighborsClassifier if clf else neighbors.KNeighborsRegressor
        return cls(n_jobs=1, **p)
    if model == "SVM":
        if clf:
            return svm.SVC(kernel="rbf", probability=True, random_state=0, **p)
        return svm.SVR(kernel="rbf", **p)
    if model == "DT":
        cls = tree.DecisionTreeClassifier if clf else tree.DecisionTreeRegressor
        return cls(max_leaf_nodes=None, random_state=0, **p)
    if model == "RF":
        cls = ensemble.RandomForestClassifier if clf else ensemble.RandomForestRegressor
        return cls(n_estimators=10, max_leaf_nodes=None, n_jobs=1, random_state=0, **p)
    if model in ("MLP-adam", "MLP-sgd"):
        cls = neural_network.MLPClassifier if clf else neural_network.MLPRegressor
        fixed: dict[str, Any] = {
            "early_stopping": True,
            "max_iter": MLP_MAX_ITER,
            "random_state": 0,
        }
        if model == "MLP-adam":
            fixed["solver"] = "adam"
        else:
            fixed.update(solver="sgd", learning_rate="invscaling", nesterovs_momentum=True)
            if not clf:
                fixed["activation"] = "tanh"  # Bayesmark: regression crashes often with relu
        return cls(**fixed, **p)
    if model == "ada":
        cls = ensemble.AdaBoostClassifier if clf else ensemble.AdaBoostRegressor
        return cls(random_state=0, **p)
    if clf:  # lasso / linear classification: liblinear logistic regression, one-vs-rest
        penalty = "l1" if model == "lasso" else "l2"
        base = linear_model.LogisticRegression(
            penalty=penalty, fit_intercept=True, solver="liblinear", random_state=0, **p
        )
        return OneVsRestClassifier(base, n_jobs=1)
    normalize = p.pop("normalize")
    cls = linear_model.Lasso if model == "lasso" else linear_model.Ridge
    kwargs = {"random_state": 0} if model == "lasso" else {"solver": "auto"}
    est = cls(**kwargs, **p)
    if normalize and p["fit_intercept"]:
        return make_pipeline(_l2_normalizer(), est)
    return est


@cache
def _data(dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """The 80% training part of a toy data set, split exactly as Bayesmark does."""
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loaders: dict[str, Callable[..., Any]] = {
        "breast": datasets.load_breast_cancer,
        "digits": datasets.load_digits,
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "diabetes": datasets.load_diabetes,
    }
    x, y = loaders[dataset](return_X_y=True)
    x_train, _, y_train, _ = train_test_split(
        x.astype(float), y, test_size=0.2, random_state=0, shuffle=True
    )
    return x_train, y_train


@dataclass(frozen=True)
class _CvObjective:
    """Picklable objective: mean 5-fold CV metric of one model on one data set."""

    model: str
    dataset: str
    metric: str

    def __call__(self, config: Config) -> float:
        from sklearn.model_selection import cross_val_score

        task = DATASETS[self.dataset]
        params = _decode(_space(self.model, task), config)
        x, y = _data(self.dataset)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                est = _build(self.model, task, params)
                scores = cross_val_score(
                    est, x, y, scoring=_SCORER[self.metric], cv=CV_SPLITS, error_score="raise"
                )
            except (ValueError, ArithmeticError, np.linalg.LinAlgError):
                return math.nan
        score = float(np.mean(scores))
        # scikit-learn scorers are "higher is better"; report the metric itself
        return score if self.metric == "acc" else -score


def _failure_value(dataset: str, metric: str) -> float:
    """A deliberately poor metric value for a crashed evaluation."""
    _, y = _data(dataset)
    if metric == "acc":
        return 0.0
    if metric == "nll":
        return 3.0 * math.log(len(np.unique(y)))
    if metric == "mse":
        return 4.0 * float(np.var(y))
    return 4.0 * float(np.mean(np.abs(y - np.mean(y))))


def sklearn_problem(name: str) -> Problem:
    """``<model>_<dataset>_<metric>`` -> Problem."""
    model, dataset, metric = name.split("_")
    task = DATASETS[dataset]
    if model not in MODELS or metric not in METRICS[task]:
        raise KeyError(name)
    return Problem(
        name=name,
        parameter_ranges=_space(model, task),
        objective=_CvObjective(model, dataset, metric),
        metric_name=metric,
        maximize=metric == "acc",
        optimum=None,
        failure_value=_failure_value(dataset, metric),
        family="sklearn",
        notes=f"{model} on {dataset}, {CV_SPLITS}-fold CV {metric}",
    )


def sklearn_problem_names() -> list[str]:
    return [
        f"{model}_{dataset}_{metric}"
        for model in MODELS
        for dataset, task in DATASETS.items()
        for metric in METRICS[task]
    ]
