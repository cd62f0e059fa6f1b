"""Every optimiser behind one ask/tell interface, each seeing the same search space.

``ask(n)`` returns ``n`` configs (``dict[str, str]``, exactly what a training job would receive);
``tell(configs, losses)`` reports them back, in the order they were asked. Batch mode is
``ask(8)`` then ``tell`` of those 8, so an optimiser must account for points it has handed out
but not yet seen results for, which is what eight parallel workers impose.

How each peer sees an AMT range (the translation is the fairness argument, so it is spelled out):

======================  ===================  ========================  ======================
AMT range               Optuna (TPE, GP)     scikit-optimize           amtune / random
======================  ===================  ========================  ======================
Continuous Linear       Float(lo, hi)        Real(lo, hi)              SearchSpace
Continuous Logarithmic  Float(log=True)      Real(log-uniform)         SearchSpace
Continuous ReverseLog   v=1-x, Float(1-hi,   v=1-x, Real(1-hi, 1-lo,   SearchSpace
                        1-lo, log=True)      log-uniform)
Integer Linear          Int(lo, hi)          Integer(lo, hi)           SearchSpace
Integer Logarithmic     Int(log=True)        Integer(log-uniform)      SearchSpace
Categorical             Categorical(values)  Categorical(values)       SearchSpace
======================  ===================  ========================  ======================

ReverseLogarithmic is AMT's log scale on ``1 - x``; giving the peers that same variable is the
faithful translation (a linear range would starve them of the region near 1 that the scale
exists for). Values are clipped into ``[lo, hi]`` after the ``1 - v`` round trip so no peer can
hand a job a value outside the range. Every peer keeps its library defaults otherwise.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .problems import Config, Problem


# --------------------------------------------------------------------------- parsed ranges
@dataclass(frozen=True)
class Param:
    """One AMT range, parsed once from the wire dict for the peers' translations."""

    name: str
    kind: str  # "continuous" | "integer" | "categorical"
    low: float = 0.0
    high: float = 0.0
    scaling: str = "Linear"
    values: tuple[str, ...] = ()


def parse_params(parameter_ranges: Mapping[str, Any]) -> list[Param]:
    """AWS ParameterRanges -> Params, in SearchSpace order (integer, continuous, categorical)."""
    out: list[Param] = []
    for spec in parameter_ranges.get("IntegerParameterRanges", []):
        scaling = spec.get("ScalingType", "Auto")
        out.append(
            Param(
                spec["Name"],
                "integer",
                int(spec["MinValue"]),
                int(spec["MaxValue"]),
                "Linear" if scaling == "Auto" else scaling,
            )
        )
    for spec in parameter_ranges.get("ContinuousParameterRanges", []):
        scaling = spec.get("ScalingType", "Auto")
        out.append(
            Param(
                spec["Name"],
                "continuous",
                float(spec["MinValue"]),
                float(spec["MaxValue"]),
                "Linear" if scaling == "Auto" else scaling,
            )
        )
    for spec in parameter_ranges.get("CategoricalParameterRanges", []):
        out.append(Param(spec["Name"], "categorical", values=tuple(spec["Values"])))
    return out


def format_value(param: Param, value: Any) -> str:
    """A peer's raw value -> the string a training job receives (clipped into the range)."""
    if param.kind == "categorical":
        return str(value)
    if param.kind == "integer":
        k = round(float(value))
        return str(min(max(k, int(param.low)), int(param.high)))
    x = float(value)
    return repr(min(max(x, param.low), param.high) + 0.0)


def _from_reverse(param: Param, v: float) -> float:
    """Peers that see ReverseLogarithmic as ``v = 1 - x`` on a log scale: back to ``x``."""
    return 1.0 - v if param.scaling == "ReverseLogarithmic" else v


# --------------------------------------------------------------------------- interface
class AskTell(Protocol):
    name: str

    def ask(self, n: int) -> list[Config]: ...

    def tell(self, configs: list[Config], losses: list[float]) -> None: ...


class AmtuneStrategy:
    """An amtune engine strategy driven exactly as the service drives it.

    Each ask calls ``suggest`` once per config, with the already-handed-out configs of the batch
    (and any earlier untold ones) as ``history.pending`` and ``index`` = the number of training
    jobs created so far, as the claim flow does. ``None`` (space exhausted, e.g. kNN's 100
    configs) is replaced by a uniformly random config so every run has the same length; the
    count is kept in ``fallbacks``.
    """

    def __init__(self, problem: Problem, seed: int, strategy: str) -> None:
        from amtune.engine.spaces import SearchSpace

        self.name = "random" if strategy == "Random" else f"amtune-{strategy.lower()}"
        self.space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
        self.seed = seed
        self.finished: list[Any] = []
        self.pending: list[Config] = []
        self.fallbacks = 0
        self._rng = np.random.default_rng([seed, 7919])
        self._strategy = _load_strategy(strategy)

    def ask(self, n: int) -> list[Config]:
        out: list[Config] = []
        for _ in range(n):
            index = len(self.finished) + len(self.pending)
            config: Config | None = None
            if self._strategy is not None:
                from amtune.engine.strategies.base import History

                history = History(finished=tuple(self.finished), pending=tuple(self.pending))
                config = self._strategy.suggest(self.space, history, seed=self.seed, index=index)
            if config is None:
                if self._strategy is not None:
                    self.fallbacks += 1
                config = self.space.from_unit(self._rng.random(self.space.dim))
            self.pending.append(config)
            out.append(config)
        return out

    def tell(self, configs: list[Config], losses: list[float]) -> None:
        for config, loss in zip(configs, losses, strict=True):
            self.pending.remove(config)
            objective = loss if math.isfinite(loss) else None
            if self._strategy is None:  # harness-side random: no engine types needed
                self.finished.append((config, objective))
                continue
            from amtune.engine.strategies.base import Trial

            self.finished.append(Trial(config=config, objective=objective))


def _load_strategy(name: str) -> Any:
    """``get_strategy(name)``. While the engine lacks a registry entry: ``Random`` -> ``None``
    (the harness samples AMT's uniform distribution itself through SearchSpace); ``Bayesian``
    -> ``BayesianStrategy`` imported directly, so the engine can be measured before it is
    wired into the service."""
    try:
        from amtune.engine.strategies import get_strategy
    except ImportError:
        if name == "Random":
            return None
        raise
    try:
        return get_strategy(name)
    except KeyError:
        if name == "Random":
            return None
        if name == "Bayesian":  # written but not yet registered: benchmark it all the same
            from amtune.engine.strategies.bayesian import BayesianStrategy

            return BayesianStrategy()
        raise


class OptunaPeer:
    """Optuna through ``study.ask(fixed_distributions)`` / ``study.tell``."""

    def __init__(self, problem: Problem, seed: int, sampler: str) -> None:
        import optuna
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        self.params = parse_params(problem.parameter_ranges)
        self.dists: dict[str, Any] = {}
        for p in self.params:
            if p.kind == "categorical":
                self.dists[p.name] = CategoricalDistribution(list(p.values))
            elif p.kind == "integer":
                self.dists[p.name] = IntDistribution(
                    int(p.low), int(p.high), log=p.scaling == "Logarithmic"
                )
            elif p.scaling == "ReverseLogarithmic":
                self.dists[p.name] = FloatDistribution(1.0 - p.high, 1.0 - p.low, log=True)
            else:
                self.dists[p.name] = FloatDistribution(
                    p.low, p.high, log=p.scaling == "Logarithmic"
                )
        if sampler == "tpe":
            self.name = "optuna-tpe"
            smp: Any = optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True)
        else:
            self.name = "optuna-gp"
            smp = optuna.samplers.GPSampler(seed=seed)
        self.study = optuna.create_study(direction="minimize", sampler=smp)
        self._trials: list[Any] = []

    def ask(self, n: int) -> list[Config]:
        out = []
        for _ in range(n):
            trial = self.study.ask(self.dists)
            self._trials.append(trial)
            out.append(
                {
                    p.name: format_value(p, _from_reverse(p, trial.params[p.name]))
                    for p in self.params
                }
            )
        return out

    def tell(self, configs: list[Config], losses: list[float]) -> None:
        import optuna

        for loss in losses:
            trial = self._trials.pop(0)
            if math.isfinite(loss):
                self.study.tell(trial, loss)
            else:
                self.study.tell(trial, state=optuna.trial.TrialState.FAIL)


class SkoptPeer:
    """scikit-optimize ``Optimizer(base_estimator="GP")``; batches via ``ask(n_points=n)``."""

    def __init__(self, problem: Problem, seed: int) -> None:
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real

        self.name = "skopt-gp"
        self.params = parse_params(problem.parameter_ranges)
        dims: list[Any] = []
        for p in self.params:
            if p.kind == "categorical":
                dims.append(Categorical(list(p.values), name=p.name))
            elif p.kind == "integer":
                prior = "log-uniform" if p.scaling == "Logarithmic" else "uniform"
                dims.append(Integer(int(p.low), int(p.high), prior=prior, name=p.name))
            elif p.scaling == "ReverseLogarithmic":
                dims.append(Real(1.0 - p.high, 1.0 - p.low, prior="log-uniform", name=p.name))
            else:
                prior = "log-uniform" if p.scaling == "Logarithmic" else "uniform"
                dims.append(Real(p.low, p.high, prior=prior, name=p.name))
        self.opt = Optimizer(dims, base_estimator="GP", random_state=seed)
        self._asked: list[list[Any]] = []

    def ask(self, n: int) -> list[Config]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            points = [self.opt.ask()] if n == 1 else self.opt.ask(n_points=n)
        self._asked.extend(points)
        return [
            {
                p.name: format_value(p, _from_reverse(p, v))
                for p, v in zip(self.params, x, strict=True)
            }
            for x in points
        ]

    def tell(self, configs: list[Config], losses: list[float]) -> None:
        xs = [self._asked.pop(0) for _ in losses]
        finite = [v for v in losses if math.isfinite(v)]
        worst = max(finite) if finite else 0.0
        ys = [v if math.isfinite(v) else worst for v in losses]  # skopt needs finite values
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.opt.tell(xs, ys)


# --------------------------------------------------------------------------- registry
def _amtune(strategy: str) -> Callable[[Problem, int], AskTell]:
    return lambda problem, seed: AmtuneStrategy(problem, seed, strategy)


OPTIMIZERS: dict[str, Callable[[Problem, int], AskTell]] = {
    "random": _amtune("Random"),
    "optuna-tpe": lambda problem, seed: OptunaPeer(problem, seed, "tpe"),
    "optuna-gp": lambda problem, seed: OptunaPeer(problem, seed, "gp"),
    "skopt-gp": SkoptPeer,
    "amtune-bayesian": _amtune("Bayesian"),
}
"""Names accepted by ``--optimizers``; ``amtune-<strategy>`` works for any registered one."""


def make_optimizer(name: str, problem: Problem, seed: int) -> AskTell:
    if name in OPTIMIZERS:
        return OPTIMIZERS[name](problem, seed)
    if name.startswith("amtune-"):
        strategy = name.removeprefix("amtune-")
        return AmtuneStrategy(problem, seed, strategy[:1].upper() + strategy[1:])
    raise KeyError(f"unknown optimizer {name!r}; known: {sorted(OPTIMIZERS)}")


def amtune_strategies() -> list[str]:
    """Strategies registered in the engine right now (empty while it has none)."""
    try:
        from amtune.engine.strategies import SUPPORTED
    except ImportError:
        return []
    return sorted(SUPPORTED)


def bayesian_available() -> bool:
    """Whether amtune's Bayesian strategy can be imported (registered or not)."""
    try:
        from amtune.engine.strategies.bayesian import BayesianStrategy  # noqa: F401
    except ImportError:
        return False
    return True
