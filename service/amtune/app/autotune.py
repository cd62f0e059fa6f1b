"""``Autotune.Mode=Enabled``: amtune chooses what the user left open.

AMT's Autotune may choose the parameter ranges, the resource limits, the early-stopping type,
the retry strategy, the strategy and the completion criteria. amtune chooses only what the
request leaves unset and keeps every value the user did set; what it chose is written into the
stored request, so Describe shows it next to the ``AutoParameters`` as given:

- **Ranges.** Each ``AutoParameters`` entry ``{Name, ValueHint}`` becomes a range centred, on
  the right scale, on the hint (:func:`range_for_hint`):

  ========================================  ==========================================
  hint                                      range
  ========================================  ==========================================
  integer ``v >= 1``                        Integer ``[max(1, v // 4), 4 v]``
  integer ``v <= 0``                        Integer ``[v - 10, v + 10]``, Linear
  number ``0 < v < 1``                      Continuous ``[v / 10, min(1, 10 v)]``
  number ``v >= 1``                         Continuous ``[v / 10, 10 v]``
  number ``v == 0`` / ``v < 0``             Continuous ``[-1, 1]`` / ``[10 v, v / 10]``, Linear
  ``true`` / ``false`` (any case)           Categorical ``[hint, its opposite]``
  any other text                            Categorical ``[hint]`` (held at the hint)
  ========================================  ==========================================

  A positive range spanning a factor of 10 or more is searched on a Logarithmic scale (a
  learning rate of 0.1 is as likely to want 0.01 as 1.0), a narrower one Linearly. A number
  between 0 and 1 is taken for a fraction and its range stays within it. Text other than a
  boolean names no alternatives, so it is held at the hint rather than guessed at.
- **Resource limits.** ``MaxNumberOfTrainingJobs``, when absent, becomes 10 per tuned
  hyperparameter, at least 20 and at most 100. ``MaxParallelTrainingJobs`` is required by the
  API and always the user's; no runtime limit is added.
- **Completion criteria.** ``ConvergenceDetected.CompleteOnConvergence`` becomes ``Enabled``
  unless the user set it, so an autotuned search does not spend its budget past convergence.
- **Strategy** is required by the API, so it is always the user's. **Early stopping** stays
  ``Off`` unless the user asked for it, and the **retry strategy** is left as given.

An objective cannot be inferred (amtune has no built-in algorithms whose metrics it knows), so
an autotuned job still needs one.
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from amtune.app.errors import ValidationError
from amtune.app.validation.ranges import MAX_TUNED_RANGES

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
LOG_SPAN = 10.0
JOBS_PER_RANGE, MIN_JOBS, MAX_JOBS = 10, 20, 100
RANGE_LISTS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")


def _scaling(low: float, high: float) -> str:
    return "Logarithmic" if low > 0 and high / low >= LOG_SPAN else "Linear"


def _text(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(float(value))


def range_for_hint(name: str, hint: str) -> tuple[str, dict[str, Any]]:
    """The range list and range one ``AutoParameters`` entry becomes (module docstring)."""
    text = hint.strip()
    if _INTEGER.fullmatch(text):
        v = int(text)
        low, high = (max(1, v // 4), 4 * v) if v >= 1 else (v - 10, v + 10)
        return "IntegerParameterRanges", {
            "Name": name,
            "MinValue": str(low),
            "MaxValue": str(high),
            "ScalingType": _scaling(low, high),
        }
    if _NUMBER.fullmatch(text) and math.isfinite(float(text)):
        x = float(text)
        if 0 < x < 1:
            lo, hi = x / 10, min(1.0, 10 * x)
        elif x >= 1:
            lo, hi = x / 10, 10 * x
        elif x == 0:
            lo, hi = -1.0, 1.0
        else:
            lo, hi = 10 * x, x / 10
        return "ContinuousParameterRanges", {
            "Name": name,
            "MinValue": _text(lo),
            "MaxValue": _text(hi),
            "ScalingType": _scaling(lo, hi),
        }
    if text.lower() in ("true", "false"):
        opposite = {"true": "false", "false": "true"}[text.lower()]
        if text.isupper():
            opposite = opposite.upper()
        elif text[:1].isupper():
            opposite = opposite.capitalize()
        return "CategoricalParameterRanges", {"Name": name, "Values": [hint, opposite]}
    return "CategoricalParameterRanges", {"Name": name, "Values": [hint]}


def resolve(request: dict[str, Any]) -> dict[str, Any]:
    """The request with what Autotune chooses filled in; unchanged without Autotune."""
    if (request.get("Autotune") or {}).get("Mode") != "Enabled":
        return request
    resolved = copy.deepcopy(request)
    config = resolved["HyperParameterTuningJobConfig"]
    if "TrainingJobDefinition" in resolved or "TrainingJobDefinitions" not in resolved:
        ranges_list = [(config.setdefault("ParameterRanges", {}), "hyperParameterTuningJobConfig")]
    else:
        ranges_list = [
            (d.setdefault("HyperParameterRanges", {}), f"trainingJobDefinitions.{i + 1}.member")
            for i, d in enumerate(resolved["TrainingJobDefinitions"])
        ]
    tuned = 0
    for ranges, path in ranges_list:
        for entry in ranges.get("AutoParameters") or []:
            member, chosen = range_for_hint(entry["Name"], entry["ValueHint"])
            ranges.setdefault(member, []).append(chosen)
        for member in RANGE_LISTS:
            ranges.setdefault(member, [])  # all three, as AMT's Describe shows them
        count = sum(len(ranges[member]) for member in RANGE_LISTS)
        if count > MAX_TUNED_RANGES:
            raise ValidationError(
                f"Autotune would tune {count} hyperparameters at '{path}', more than the "
                f"{MAX_TUNED_RANGES} allowed. Pass fewer AutoParameters."
            )
        tuned = max(tuned, count)
    if not config.get("HyperParameterTuningJobObjective") and "TrainingJobDefinitions" not in (
        resolved
    ):
        raise ValidationError(
            "Autotune cannot infer an objective metric for a custom algorithm: no "
            "'hyperParameterTuningJobConfig.hyperParameterTuningJobObjective' is specified. "
            "Provide the objective's Type and MetricName."
        )
    limits = config["ResourceLimits"]
    if limits.get("MaxNumberOfTrainingJobs") is None and config["Strategy"] != "Grid":
        limits["MaxNumberOfTrainingJobs"] = max(MIN_JOBS, min(MAX_JOBS, JOBS_PER_RANGE * tuned))
    criteria = config.setdefault("TuningJobCompletionCriteria", {})
    criteria.setdefault("ConvergenceDetected", {"CompleteOnConvergence": "Enabled"})
    return resolved


def chosen_only(resolved: dict[str, Any]) -> dict[str, Any]:
    """A resolved request without its ``AutoParameters``, so the create rules can check the
    ranges Autotune chose as if the user had written them (a hint and the range chosen for it
    share a name, which the rules would otherwise take for a hyperparameter tuned twice)."""
    checked = copy.deepcopy(resolved)
    holders = [checked["HyperParameterTuningJobConfig"].get("ParameterRanges") or {}]
    holders += [
        d.get("HyperParameterRanges") or {} for d in checked.get("TrainingJobDefinitions", [])
    ]
    for ranges in holders:
        ranges.pop("AutoParameters", None)
    return checked
