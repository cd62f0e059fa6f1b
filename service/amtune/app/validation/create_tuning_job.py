"""CreateHyperParameterTuningJob: shape first (all violations at once), then one rule at a time.

The order matters for the engine: ranges are validated before any ``SearchSpace`` is built, so
the engine never sees input it would misread. What is left to the service: whether the name is
free (``ResourceInUse``), account quotas (concurrent tuning jobs, ``MaxParallelTrainingJobs``:
``ResourceLimitExceeded``), and warm-start parents (existence, terminal state, and the fields an
``IdenticalDataAndAlgorithm`` child may not change).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amtune.app.validation.create_shape import CREATE_TUNING_JOB
from amtune.app.validation.definitions import (
    check_definition,
    check_environment_total,
    collect_definitions,
)
from amtune.app.validation.ranges import check_parameter_ranges
from amtune.app.validation.semantic import as_list, as_map, given, reject
from amtune.app.validation.shapes import check_shape, element_path
from amtune.app.validation.strategy import check_strategy
from amtune.app.validation.text import check_text_safety


def validate_create_tuning_job(request: Mapping[str, Any]) -> None:
    """Validate a whole CreateHyperParameterTuningJob body; raise ValidationError if bad.

    After it returns, every known member present in the request has a non-null value of the
    right JSON type, so ``"Member" in request`` is a safe presence test. Unknown members are
    ignored (left for the caller to store or drop).
    """
    check_text_safety(request)
    check_shape(CREATE_TUNING_JOB, request)
    autotune = given(request, "Autotune")
    definitions = collect_definitions(request, autotune=autotune)
    for definition in definitions:
        check_parameter_ranges(definition.ranges, definition.ranges_path, autotune=autotune)
        check_definition(definition)
    check_environment_total(definitions)
    check_strategy(request["HyperParameterTuningJobConfig"], definitions, autotune=autotune)
    _check_warm_start(request)
    _check_tags(request)


def _check_warm_start(request: Mapping[str, Any]) -> None:
    path = "warmStartConfig.parentHyperParameterTuningJobs"
    seen: set[str] = set()
    parents = as_list(as_map(request, "WarmStartConfig"), "ParentHyperParameterTuningJobs")
    for index, parent in enumerate(parents):
        name = parent["HyperParameterTuningJobName"].lower()
        if name in seen:
            reject(
                f"The parent tuning job '{parent['HyperParameterTuningJobName']}' at "
                f"'{element_path(path, index)}.hyperParameterTuningJobName' is listed more than "
                "once. List each parent once."
            )
        seen.add(name)


def _check_tags(request: Mapping[str, Any]) -> None:
    seen: set[str] = set()
    for index, tag in enumerate(as_list(request, "Tags")):
        if tag["Key"] in seen:
            reject(
                f"The tag key '{tag['Key']}' at '{element_path('tags', index)}.key' is used more "
                "than once. Provide unique tag keys."
            )
        seen.add(tag["Key"])
