"""What a benchmark problem is: a SageMaker ``ParameterRanges`` dict plus an objective.

The ranges are written exactly as AWS sends them (``MinValue``/``MaxValue`` as strings, an
explicit ``ScalingType``), so the same dict can be handed to ``SearchSpace``, translated for a
peer optimiser, or posted to a running amtune service in ``CreateHyperParameterTuningJob``.
Objectives take the decoded config (``dict[str, str]``, what a training job receives) so every
optimiser is judged on identical inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Config = dict[str, str]


@dataclass(frozen=True)
class Problem:
    """One tuning problem.

    ``objective`` returns the metric in its own direction; ``maximize`` says which way is better.
    The harness always works with :meth:`loss` (to minimise), as Bayesmark does.
    ``optimum`` is the known best metric value (synthetic problems) or ``None`` when it has to be
    estimated from everything ever evaluated (model tuning). ``failure_value`` replaces an
    evaluation that raised or returned a non-finite number, so one crashing config cannot
    poison a curve with NaN; it is deliberately a poor value.
    """

    name: str
    parameter_ranges: Mapping[str, Any]
    objective: Callable[[Config], float]
    metric_name: str
    maximize: bool = False
    optimum: float | None = None
    failure_value: float = math.inf
    family: str = "synthetic"
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)

    def loss(self, config: Config) -> float:
        """The value to minimise for ``config`` (negated metric when maximising)."""
        try:
            value = float(self.objective(config))
        except (ArithmeticError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            value = self.failure_value
        return -value if self.maximize else value

    @property
    def optimum_loss(self) -> float | None:
        """Known optimum as a loss, or ``None``."""
        if self.optimum is None:
            return None
        return -self.optimum if self.maximize else self.optimum

    @property
    def dim(self) -> int:
        return sum(len(self.parameter_ranges.get(k, ())) for k in _RANGE_KEYS)


_RANGE_KEYS = (
    "IntegerParameterRanges",
    "ContinuousParameterRanges",
    "CategoricalParameterRanges",
)


def continuous(name: str, low: float, high: float, scaling: str = "Linear") -> dict[str, str]:
    """A ``ContinuousParameterRanges`` entry as AWS sends it."""
    return {
        "Name": name,
        "MinValue": repr(float(low)),
        "MaxValue": repr(float(high)),
        "ScalingType": scaling,
    }


def integer(name: str, low: int, high: int, scaling: str = "Linear") -> dict[str, str]:
    """An ``IntegerParameterRanges`` entry as AWS sends it."""
    return {
        "Name": name,
        "MinValue": str(int(low)),
        "MaxValue": str(int(high)),
        "ScalingType": scaling,
    }


def categorical(name: str, values: list[str]) -> dict[str, Any]:
    """A ``CategoricalParameterRanges`` entry as AWS sends it."""
    return {"Name": name, "Values": list(values)}


def ranges(
    *,
    integers: list[dict[str, str]] | None = None,
    continuous_: list[dict[str, str]] | None = None,
    categoricals: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Assemble a ``ParameterRanges`` dict (empty lists kept, as the SDK sends them)."""
    return {
        "IntegerParameterRanges": list(integers or []),
        "ContinuousParameterRanges": list(continuous_ or []),
        "CategoricalParameterRanges": list(categoricals or []),
    }
