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
- **Strategy** (when the request leaves it out, which the API allows only with Autotune):
  ``Hyperband`` when a ``HyperbandStrategyConfig`` is given, or when every training-job
  definition holds an epochs-like static hyperparameter (``epochs``, ``num_epochs``, ... as
  Hyperband reads MaxResource from, :data:`EPOCH_KEYS`) of at least :data:`MIN_EPOCHS` and
  early stopping is not ``Auto`` (Hyperband refuses it); otherwise ``Bayesian``. An iterative
  training that reports per epoch is what Hyperband's rungs need, and stopping the poor
  configurations early buys more configurations for the same compute; without an epoch count
  amtune cannot know that the jobs iterate, and Bayesian is the better model of a budget of
  20-100 full trainings than Random. Grid is never chosen: it tries every combination of
  categorical values, which is a decision about the budget only the user can make.
- **Resource limits.** ``MaxNumberOfTrainingJobs``, when absent, becomes 10 per tuned
  hyperparameter, at least 20 and at most 100 (Grid computes its own).
  ``MaxParallelTrainingJobs``, when absent (again only with Autotune): for Bayesian a tenth of
  the budget, 1 to 10, so the model sees the results of about nine rounds before the budget is
  spent (a Bayesian search learns from finished jobs; all at once it is a random one); for
  Hyperband, Random and Grid the whole budget up to 10 (ASHA judges jobs asynchronously and
  Random and Grid learn nothing from finished jobs). Never more than the team's quota of
  parallel training jobs (``app/tuning_jobs.py``). No runtime limit is added.
- **Early stopping** (``TrainingJobEarlyStoppingType``, when absent): ``Auto`` (the median rule)
  for Bayesian and Random when every definition holds an epochs-like static hyperparameter of
  at least :data:`MIN_EPOCHS`, as such jobs can report per epoch; ``Off`` otherwise, always for
  Hyperband (it stops jobs at its rungs and refuses ``Auto``) and for Grid (an exhaustive grid
  asks for every combination's final value).
- **Completion criteria.** ``ConvergenceDetected.CompleteOnConvergence`` becomes ``Enabled``
  unless the user set it, so an autotuned search does not spend its budget past convergence.
- The **retry strategy** is left as given.

Everything chosen is written into the stored request, so Describe's
``HyperParameterTuningJobConfig`` shows the strategy, limits and early-stopping type in use
next to the ``Autotune`` block. The SageMaker Python SDK v2 always sends a strategy, both limits
(``max_jobs`` defaults to 1) and ``TrainingJobEarlyStoppingType=Off``, so with
``autotune=True`` Autotune chooses its ranges and completion criteria only. boto3's model marks
``Strategy`` and ``MaxParallelTrainingJobs`` required: a boto3 client leaves them to Autotune
with ``Config(parameter_validation=False)``, and raw JSON over ``/`` or ``/v1`` may simply omit
them. Without Autotune their absence is refused as AWS refuses it.

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
from amtune.app.validation.strategy import EPOCH_KEYS
from amtune.engine.spaces import SearchSpace

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
LOG_SPAN = 10.0
JOBS_PER_RANGE, MIN_JOBS, MAX_JOBS = 10, 20, 100
MAX_PARALLEL = 10
MIN_EPOCHS = 3
"""An epoch count below this leaves Hyperband (rungs 1, 3, 9, ...) no rung before the end."""
CHOSEN_PARALLEL = "MaxParallelTrainingJobs"
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


def _enabled(request: Any) -> bool:
    autotune = request.get("Autotune") if isinstance(request, dict) else None
    return isinstance(autotune, dict) and autotune.get("Mode") == "Enabled"


def _bodies(request: dict[str, Any]) -> list[Any]:
    if "TrainingJobDefinition" in request:
        return [request["TrainingJobDefinition"]]
    bodies = request.get("TrainingJobDefinitions")
    return bodies if isinstance(bodies, list) else []


def _epochs(body: Any) -> int | None:
    """The first epochs-like static hyperparameter of a definition, if it is an integer."""
    static = body.get("StaticHyperParameters") if isinstance(body, dict) else None
    if not isinstance(static, dict):
        return None
    for key in EPOCH_KEYS:
        value = static.get(key)
        if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
            return int(value)
    return None


def _iterative(request: dict[str, Any]) -> bool:
    """Whether every definition trains for an epoch count Hyperband's rungs can divide."""
    bodies = _bodies(request)
    return bool(bodies) and all((_epochs(b) or 0) >= MIN_EPOCHS for b in bodies)


def choose_strategy(request: dict[str, Any]) -> str:
    """The strategy Autotune picks for a request that names none (module docstring)."""
    config = request["HyperParameterTuningJobConfig"]
    strategy_config = config.get("StrategyConfig")
    if isinstance(strategy_config, dict) and strategy_config.get("HyperbandStrategyConfig"):
        return "Hyperband"
    if config.get("TrainingJobEarlyStoppingType") == "Auto":
        return "Bayesian"
    return "Hyperband" if _iterative(request) else "Bayesian"


def parallel_for(strategy: str, max_jobs: int) -> int:
    """MaxParallelTrainingJobs Autotune picks (module docstring)."""
    if strategy == "Bayesian":
        return max(1, min(MAX_PARALLEL, max_jobs // 10))
    return max(1, min(MAX_PARALLEL, max_jobs))


def early_stopping_for(strategy: str, request: dict[str, Any]) -> str:
    """TrainingJobEarlyStoppingType Autotune picks (module docstring)."""
    return "Auto" if strategy in ("Bayesian", "Random") and _iterative(request) else "Off"


def fill_required(request: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """Before validation: the members the API requires but Autotune may choose (``Strategy``,
    ``ResourceLimits.MaxParallelTrainingJobs``), filled in when a request with Autotune leaves
    them out, and which of them were. The request is not validated yet, so anything of an
    unexpected type is left for validation to refuse. ``MaxParallelTrainingJobs`` is a
    placeholder of 1 here; :func:`resolve` sets it once the budget is known."""
    if not _enabled(request) or not isinstance(request.get("HyperParameterTuningJobConfig"), dict):
        return request, frozenset()
    filled = copy.deepcopy(request)
    config = filled["HyperParameterTuningJobConfig"]
    chosen: set[str] = set()
    if config.get("Strategy") is None:
        config["Strategy"] = choose_strategy(filled)
    if config.get("ResourceLimits") is None:
        config["ResourceLimits"] = {}
    limits = config["ResourceLimits"]
    if isinstance(limits, dict) and limits.get(CHOSEN_PARALLEL) is None:
        limits[CHOSEN_PARALLEL] = 1
        chosen.add(CHOSEN_PARALLEL)
    return filled, frozenset(chosen)


def resolve(request: dict[str, Any], left_open: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The request with what Autotune chooses filled in; unchanged without Autotune.

    ``left_open``: what :func:`fill_required` filled in with a placeholder."""
    if not _enabled(request):
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
    strategy = config["Strategy"]
    if limits.get("MaxNumberOfTrainingJobs") is None and strategy != "Grid":
        limits["MaxNumberOfTrainingJobs"] = max(MIN_JOBS, min(MAX_JOBS, JOBS_PER_RANGE * tuned))
    if CHOSEN_PARALLEL in left_open:
        budget = limits.get("MaxNumberOfTrainingJobs") or _grid_size(ranges_list)
        limits[CHOSEN_PARALLEL] = parallel_for(strategy, budget)
    if config.get("TrainingJobEarlyStoppingType") is None:
        config["TrainingJobEarlyStoppingType"] = early_stopping_for(strategy, resolved)
    criteria = config.setdefault("TuningJobCompletionCriteria", {})
    criteria.setdefault("ConvergenceDetected", {"CompleteOnConvergence": "Enabled"})
    return resolved


def _grid_size(ranges_list: list[tuple[dict[str, Any], str]]) -> int:
    """The number of grid points of all definitions (categorical ranges only, as Grid needs)."""
    total = 0
    for ranges, _path in ranges_list:
        plain = {member: ranges.get(member, []) for member in RANGE_LISTS}
        try:
            total += SearchSpace.from_parameter_ranges(plain).cardinality() or 0
        except ValueError:
            continue  # validation refuses such ranges with its own message
    return max(total, 1)


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
