"""Arbitrary JSON-like garbage anywhere in a request yields a ValidationError or nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amtune.app.errors import ValidationError
from amtune.app.validation import (
    validate_create_tuning_job,
    validate_list_training_jobs,
    validate_list_training_jobs_for_tuning_job,
    validate_list_tuning_jobs,
    validate_training_job_name,
    validate_tuning_job_name,
)

from .requests import grid_request, multi_definition_request, sdk_style_request

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(
        ["", "0", "-1", "1e999", "nan", "Auto", "Grid", "Logarithmic", "ml.m5.large", "\x00"]
    )
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every position (dict key or list index path) inside ``value``."""
    out = [prefix]
    if isinstance(value, Mapping):
        for key, item in value.items():
            out.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, (*prefix, index)))
    return out


def _replace(request: Any, path: tuple[Any, ...], garbage: Any) -> Any:
    if not path:
        return garbage
    parent = request
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = garbage
    return request


def _expect_only_validation_error(validate: Callable[[Any], None], request: Any) -> None:
    try:
        validate(request)
    except ValidationError as error:
        assert error.message
        error.message.encode("utf-8")


FACTORIES = [sdk_style_request, grid_request, multi_definition_request]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    factory=st.sampled_from(FACTORIES),
    position=st.integers(min_value=0),
    garbage=JSON,
    add_member=st.booleans(),
)
def test_garbage_in_any_position_of_create_only_raises_validation_error(
    factory: Callable[[], dict[str, Any]], position: int, garbage: Any, add_member: bool
) -> None:
    request = factory()
    paths = _paths(request)
    path = paths[position % len(paths)]
    if add_member:
        # An extra member next to known ones: in the innermost object on the path.
        target: Any = request
        for step in path:
            child = target[step]
            if not isinstance(child, dict | list):
                break
            target = child
        if isinstance(target, dict):
            target["Injected"] = garbage
    else:
        request = _replace(request, path, garbage)
    _expect_only_validation_error(validate_create_tuning_job, request)


@settings(max_examples=300, deadline=None)
@given(
    validate=st.sampled_from(
        [
            validate_list_tuning_jobs,
            validate_list_training_jobs,
            validate_list_training_jobs_for_tuning_job,
        ]
    ),
    request=st.dictionaries(
        st.sampled_from(
            [
                "MaxResults",
                "NextToken",
                "SortBy",
                "SortOrder",
                "NameContains",
                "StatusEquals",
                "CreationTimeAfter",
                "LastModifiedTimeBefore",
                "HyperParameterTuningJobName",
                "WarmPoolStatusEquals",
                "TrainingPlanArnEquals",
            ]
        ),
        JSON,
        max_size=5,
    )
    | JSON,
)
def test_garbage_list_requests_only_raise_validation_error(
    validate: Callable[[Any], None], request: Any
) -> None:
    _expect_only_validation_error(validate, request)


@settings(max_examples=200, deadline=None)
@given(value=JSON)
def test_garbage_names_only_raise_validation_error(value: Any) -> None:
    _expect_only_validation_error(validate_tuning_job_name, value)
    _expect_only_validation_error(validate_training_job_name, value)


NUMBER_TEXT = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(min_value=0, max_value=1, exclude_max=True).map(repr),
    st.sampled_from(["0", "1", "-0.0", ".5", "5.", "1E3", "1e999", "nan", "inf", "1_0", " 1"]),
)


@settings(max_examples=300, deadline=None)
@given(
    low=NUMBER_TEXT,
    high=NUMBER_TEXT,
    scaling=st.sampled_from(["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]),
    kind=st.sampled_from(["IntegerParameterRanges", "ContinuousParameterRanges"]),
)
def test_every_accepted_range_builds_a_search_space(
    low: str, high: str, scaling: str, kind: str
) -> None:
    from amtune.engine.spaces import SearchSpace

    request = sdk_style_request()
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = "Random"
    config["ResourceLimits"] = {"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1}
    config["ParameterRanges"] = {
        kind: [{"Name": "x", "MinValue": low, "MaxValue": high, "ScalingType": scaling}]
    }
    try:
        validate_create_tuning_job(request)
    except ValidationError:
        return
    space = SearchSpace.from_parameter_ranges(config["ParameterRanges"])
    assert space.dim == 1
