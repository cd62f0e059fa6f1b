"""Rules tying the strategy to the resource limits and the search space.

AWS answers a ``MaxNumberOfTrainingJobs`` above the service quota (750, or 10000 for Random)
with ``ResourceLimitExceeded`` or ``ValidationException`` depending on the path; amtune always
answers ``ValidationException`` because the limit is fixed here, not an adjustable account
quota. The per-account quota on ``MaxParallelTrainingJobs`` is the service's business.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from amtune.app.validation.definitions import Definition
from amtune.app.validation.ranges import tuned_names
from amtune.app.validation.semantic import as_list, as_map, given, reject
from amtune.engine.spaces import SearchSpace

MAX_TRAINING_JOBS = {"Bayesian": 750, "Hyperband": 750, "Grid": 750, "Random": 10000}
MAX_GRID_COMBINATIONS = 750
MAX_HYPERBAND_RESOURCE = 20000
EPOCH_KEYS = ("epochs", "numepochs", "n-epochs", "n_epochs", "num_epochs")
"""Static hyperparameters Hyperband reads MaxResource from when it is not given."""

_CONFIG = "hyperParameterTuningJobConfig"
_LIMITS = f"{_CONFIG}.resourceLimits"
_HYPERBAND = f"{_CONFIG}.strategyConfig.hyperbandStrategyConfig"
_INTEGER = re.compile(r"[+-]?[0-9]+")


def check_strategy(
    config: Mapping[str, Any], definitions: Sequence[Definition], *, autotune: bool = False
) -> None:
    """Cross-field rules of ``HyperParameterTuningJobConfig`` (shape and ranges validated).

    With Autotune, a missing ``MaxNumberOfTrainingJobs`` is chosen by the service
    (``app/autotune.py``)."""
    strategy = config["Strategy"]
    limits = config["ResourceLimits"]
    max_jobs = limits.get("MaxNumberOfTrainingJobs")
    if max_jobs is None and strategy != "Grid" and not autotune:
        reject(
            f"No MaxNumberOfTrainingJobs is specified at '{_LIMITS}.maxNumberOfTrainingJobs'. "
            f"It is required for the {strategy} strategy; only Grid computes it."
        )
    _check_strategy_config(config, strategy)
    if _autotune_pending(definitions):
        return  # checked again once Autotune has chosen the ranges (app/autotune.py)
    if strategy == "Grid":
        _check_grid(definitions, max_jobs)
    elif strategy == "Hyperband":
        _check_hyperband(config, definitions)
    if max_jobs is not None and max_jobs > MAX_TRAINING_JOBS[strategy]:
        reject(
            f"The MaxNumberOfTrainingJobs {max_jobs} at '{_LIMITS}.maxNumberOfTrainingJobs' "
            f"exceeds the limit of {MAX_TRAINING_JOBS[strategy]} training jobs for the "
            f"{strategy} strategy. Provide a smaller value."
        )
    parallel = limits["MaxParallelTrainingJobs"]
    if max_jobs is not None and parallel > max_jobs:
        reject(
            f"The MaxParallelTrainingJobs {parallel} at '{_LIMITS}.maxParallelTrainingJobs' is "
            f"greater than MaxNumberOfTrainingJobs {max_jobs} at "
            f"'{_LIMITS}.maxNumberOfTrainingJobs'. Provide a value less than or equal to "
            "MaxNumberOfTrainingJobs."
        )
    if strategy in ("Random", "Bayesian") and max_jobs is not None:
        _check_discrete_budget(definitions, max_jobs)


def _autotune_pending(definitions: Sequence[Definition]) -> bool:
    """Whether some AutoParameters have no range yet: the space is not known before then."""
    for definition in definitions:
        ranged = set(tuned_names(definition.ranges, with_auto=False))
        if any(
            entry["Name"] not in ranged for entry in as_list(definition.ranges, "AutoParameters")
        ):
            return True
    return False


def _check_strategy_config(config: Mapping[str, Any], strategy: str) -> None:
    if given(config, "StrategyConfig") and strategy != "Hyperband":
        reject(
            f"'{_CONFIG}.strategyConfig' is only allowed with the Hyperband strategy, but "
            f"Strategy is {strategy}. Remove StrategyConfig or choose Hyperband."
        )
    if strategy == "Hyperband" and config.get("TrainingJobEarlyStoppingType") == "Auto":
        reject(
            f"'{_CONFIG}.trainingJobEarlyStoppingType' must be Off with the Hyperband strategy, "
            "which stops training jobs early on its own. Set TrainingJobEarlyStoppingType to Off."
        )


def _spaces(definitions: Sequence[Definition]) -> list[SearchSpace] | None:
    """One SearchSpace per definition; None if some definition tunes nothing (Autotune)."""
    spaces: list[SearchSpace] = []
    for definition in definitions:
        if not tuned_names(definition.ranges, with_auto=False):
            return None
        try:
            spaces.append(SearchSpace.from_parameter_ranges(definition.ranges))
        except ValueError as error:  # a rule missing above; never let it become a 500
            reject(f"The ranges at '{definition.ranges_path}' are invalid: {error}.")
    return spaces


def _check_grid(definitions: Sequence[Definition], max_jobs: int | None) -> None:
    for definition in definitions:
        for member in ("IntegerParameterRanges", "ContinuousParameterRanges"):
            if as_list(definition.ranges, member):
                camel = member[:1].lower() + member[1:]
                reject(
                    f"The Grid strategy only supports CategoricalParameterRanges, but "
                    f"'{definition.ranges_path}.{camel}' is not empty. Use "
                    "CategoricalParameterRanges or another strategy."
                )
    spaces = _spaces(definitions)
    if spaces is None:
        return
    combinations = sum(space.cardinality() or 0 for space in spaces)
    ranges_path = definitions[0].ranges_path if len(definitions) == 1 else "trainingJobDefinitions"
    if combinations > MAX_GRID_COMBINATIONS:
        reject(
            f"The CategoricalParameterRanges at '{ranges_path}' make {combinations} "
            f"combinations; the Grid strategy allows at most {MAX_GRID_COMBINATIONS}. Remove "
            "values or ranges."
        )
    if max_jobs is not None and max_jobs != combinations:
        reject(
            f"The MaxNumberOfTrainingJobs {max_jobs} at '{_LIMITS}.maxNumberOfTrainingJobs' "
            f"must equal the number of Grid combinations ({combinations}) of the ranges at "
            f"'{ranges_path}'. Set it to {combinations} or leave it out."
        )


def _check_discrete_budget(definitions: Sequence[Definition], max_jobs: int) -> None:
    spaces = _spaces(definitions)
    if spaces is None:
        return
    sizes = [space.cardinality() for space in spaces]
    if any(size is None for size in sizes):
        return
    combinations = sum(size or 0 for size in sizes)
    if combinations < max_jobs:
        reject(
            "You don't have enough combinations of hyperparameter ranges. The total number of "
            f"hyperparameter combinations for the provided ranges [{float(combinations)}] must "
            f"be equal or greater than the value of MaxNumberOfJobs, [{max_jobs}]. Provide "
            f"additional ranges. (MaxNumberOfJobs is '{_LIMITS}.maxNumberOfTrainingJobs'.)"
        )


def _check_hyperband(config: Mapping[str, Any], definitions: Sequence[Definition]) -> None:
    hyperband = as_map(as_map(config, "StrategyConfig"), "HyperbandStrategyConfig")
    min_resource: int = hyperband.get("MinResource") or 1
    max_resource: int | None = hyperband.get("MaxResource")
    if max_resource is not None:
        if max_resource > MAX_HYPERBAND_RESOURCE:
            reject(
                f"The MaxResource {max_resource} at '{_HYPERBAND}.maxResource' exceeds "
                f"{MAX_HYPERBAND_RESOURCE}. Provide at most {MAX_HYPERBAND_RESOURCE}."
            )
        _check_min_resource(min_resource, max_resource, f"'{_HYPERBAND}.maxResource'")
        return
    for definition in definitions:
        inferred, source = _inferred_max_resource(definition)
        _check_min_resource(min_resource, inferred, source)


def _inferred_max_resource(definition: Definition) -> tuple[int, str]:
    static = as_map(definition.body, "StaticHyperParameters")
    static_path = f"{definition.path}.staticHyperParameters"
    for key in EPOCH_KEYS:
        if key not in static:
            continue
        text = static[key]
        value = int(text) if _INTEGER.fullmatch(text) else 0
        if not 1 <= value <= MAX_HYPERBAND_RESOURCE:
            reject(
                f"Hyperband infers MaxResource from the static hyperparameter '{key}' in "
                f"'{static_path}', but its value '{text}' is not an integer between 1 and "
                f"{MAX_HYPERBAND_RESOURCE}. Fix the value or set '{_HYPERBAND}.maxResource'."
            )
        return value, f"the static hyperparameter '{key}' in '{static_path}'"
    reject(
        f"No MaxResource is specified at '{_HYPERBAND}.maxResource' and none can be inferred "
        f"from '{static_path}' (keys {', '.join(EPOCH_KEYS)}). Provide MaxResource for the "
        "Hyperband strategy."
    )


def _check_min_resource(min_resource: int, max_resource: int, source: str) -> None:
    if min_resource > max_resource:
        reject(
            f"The MinResource {min_resource} at '{_HYPERBAND}.minResource' is greater than the "
            f"MaxResource {max_resource} from {source}. Provide a MinResource less than or "
            "equal to MaxResource."
        )
