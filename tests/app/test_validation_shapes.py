"""How shape problems are reported: AWS's joined format, paths, types, null, unsafe text."""

from __future__ import annotations

from typing import Any

import pytest

from amtune.app.errors import ValidationError
from amtune.app.validation import (
    validate_create_tuning_job,
    validate_list_training_jobs,
    validate_list_training_jobs_for_tuning_job,
    validate_list_tuning_jobs,
    validate_training_job_name,
    validate_tuning_job_name,
)

from .requests import sdk_style_request


def _message(request: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_create_tuning_job(request)
    return caught.value.message


def test_several_violations_are_counted_and_joined_in_request_order() -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Nope"
    request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxParallelTrainingJobs"] = 0
    request["Tags"] = [{"Key": "", "Value": "v"}]

    assert _message(request) == (
        "3 validation errors detected: "
        "Value 'Nope' at 'hyperParameterTuningJobConfig.strategy' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Bayesian, Random, Hyperband, Grid]; "
        "Value '0' at 'hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs' "
        "failed to satisfy constraint: Member must have value greater than or equal to 1; "
        "Value '' at 'tags.1.member.key' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )


@pytest.mark.parametrize(
    ("member", "path"),
    [
        ("Tags", "tags"),
        ("TrainingJobDefinitions", "trainingJobDefinitions"),
        ("WarmStartConfig", "warmStartConfig"),
    ],
)
def test_explicit_null_for_an_optional_member_is_refused(member: str, path: str) -> None:
    request = sdk_style_request()
    request[member] = None

    assert _message(request) == (
        f"1 validation error detected: Value null at '{path}' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_missing_and_null_required_members_are_not_null_violations() -> None:
    request = sdk_style_request()
    del request["HyperParameterTuningJobName"]
    request["HyperParameterTuningJobConfig"]["Strategy"] = None

    assert _message(request) == (
        "2 validation errors detected: "
        "Value null at 'hyperParameterTuningJobName' failed to satisfy constraint: "
        "Member must not be null; "
        "Value null at 'hyperParameterTuningJobConfig.strategy' failed to satisfy constraint: "
        "Member must not be null"
    )


@pytest.mark.parametrize(
    ("value", "expected_type"),
    [
        ("10", "integer"),
        (10.0, "integer"),
        (True, "integer"),
        ([10], "integer"),
        ({"n": 10}, "integer"),
    ],
)
def test_wrong_json_type_for_an_integer_names_the_field(value: Any, expected_type: str) -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxNumberOfTrainingJobs"] = value

    message = _message(request)

    assert "at 'hyperParameterTuningJobConfig.resourceLimits.maxNumberOfTrainingJobs'" in message
    assert message.endswith(f"Member must be of type {expected_type}")


@pytest.mark.parametrize(
    ("member", "value", "expected_type"),
    [
        ("HyperParameterTuningJobConfig", [], "structure"),
        ("Tags", {"Key": "a", "Value": "b"}, "list"),
        ("HyperParameterTuningJobName", 7, "string"),
    ],
)
def test_wrong_json_type_for_structures_lists_and_strings(
    member: str, value: Any, expected_type: str
) -> None:
    request = sdk_style_request()
    request[member] = value

    assert _message(request).endswith(f"Member must be of type {expected_type}")


def test_map_entries_are_reported_by_position_key_and_value() -> None:
    request = sdk_style_request()
    request["TrainingJobDefinition"]["StaticHyperParameters"] = {"ok": "1", "n": 5}

    assert _message(request) == (
        "1 validation error detected: Value '5' at "
        "'trainingJobDefinition.staticHyperParameters.2.member.value' failed to satisfy "
        "constraint: Member must be of type string"
    )


def test_booleans_are_checked_as_booleans() -> None:
    request = sdk_style_request()
    request["TrainingJobDefinition"]["EnableManagedSpotTraining"] = "true"

    assert _message(request).endswith(
        "at 'trainingJobDefinition.enableManagedSpotTraining' failed to satisfy constraint: "
        "Member must be of type boolean"
    )


def test_integers_beyond_java_int_are_rejected() -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobConfig"]["RandomSeed"] = 2**31

    assert _message(request).endswith("Member must have value less than or equal to 2147483647")


def test_a_non_object_body_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        validate_create_tuning_job(["not", "an", "object"])  # type: ignore[arg-type]


def test_oversized_values_are_echoed_shortened() -> None:
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "a" * 5000

    message = _message(request)

    assert "Value '" + "a" * 1021 + "...'" in message
    assert len(message) < 3000


@pytest.mark.parametrize("text", ["bad\x00value", "bad\ud800value"])
def test_strings_the_database_cannot_store_are_rejected_anywhere(text: str) -> None:
    request = sdk_style_request()
    request["SomeUnknownMember"] = {"Nested": [text]}

    message = _message(request)

    assert "'someUnknownMember.nested.1.member'" in message
    assert text not in message
    message.encode("utf-8")  # the reply itself is always encodable


def test_names_for_describe_stop_delete() -> None:
    validate_tuning_job_name("a" * 32)
    validate_tuning_job_name("my-tuning--job-1")
    validate_training_job_name("my-tuning-job-001-4ac17a84")
    validate_training_job_name("t" * 63)

    with pytest.raises(ValidationError) as caught:
        validate_training_job_name("t" * 64)
    assert caught.value.message.startswith(
        "1 validation error detected: Value '" + "t" * 64 + "' at 'trainingJobName' failed to "
        "satisfy constraint: Member must have length less than or equal to 63"
    )

    with pytest.raises(ValidationError) as caught:
        validate_tuning_job_name(None, field="hyperParameterTuningJobName")
    assert caught.value.message == (
        "1 validation error detected: Value null at 'hyperParameterTuningJobName' failed to "
        "satisfy constraint: Member must not be null"
    )

    with pytest.raises(ValidationError) as caught:
        validate_tuning_job_name(3, field="name")
    assert "at 'name'" in caught.value.message


def test_list_requests_that_clients_send_pass() -> None:
    validate_list_tuning_jobs({})
    validate_list_tuning_jobs(
        {
            "MaxResults": 100,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "NameContains": "xgb-",
            "CreationTimeAfter": 1577836800,
            "CreationTimeBefore": 1795821947.549,
            "StatusEquals": "InProgress",
            "NextToken": "eyJvZmZzZXQiOiAxMH0=",
        }
    )
    validate_list_training_jobs_for_tuning_job(
        {
            "HyperParameterTuningJobName": "tj",
            "MaxResults": 100,
            "SortBy": "FinalObjectiveMetricValue",
            "SortOrder": "Descending",
            "StatusEquals": "Completed",
        }
    )
    validate_list_training_jobs(
        {"MaxResults": 1, "SortBy": "Status", "WarmPoolStatusEquals": "Available", "NextToken": ""}
    )


@pytest.mark.parametrize(
    ("request_body", "path", "constraint"),
    [
        ({"CreationTimeAfter": "2020-01-01"}, "creationTimeAfter", "Member must be of type number"),
        (
            {"LastModifiedTimeBefore": True},
            "lastModifiedTimeBefore",
            "Member must be of type number",
        ),
        (
            {"CreationTimeBefore": 1e20},
            "creationTimeBefore",
            "Member must have value less than or equal to 253402300799",
        ),
        ({"MaxResults": 10.5}, "maxResults", "Member must be of type integer"),
        ({"SortBy": "FinalObjectiveMetricValue"}, "sortBy", "Member must satisfy enum value set"),
    ],
)
def test_list_filters_have_the_right_types(
    request_body: dict[str, Any], path: str, constraint: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_list_training_jobs(request_body)

    assert f"at '{path}' failed to satisfy constraint: {constraint}" in caught.value.message


def test_list_training_jobs_for_tuning_job_needs_a_valid_tuning_job_name() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_list_training_jobs_for_tuning_job({"MaxResults": 10})
    assert caught.value.message == (
        "1 validation error detected: Value null at 'hyperParameterTuningJobName' failed to "
        "satisfy constraint: Member must not be null"
    )
