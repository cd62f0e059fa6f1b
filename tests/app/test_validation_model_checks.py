"""Enum members checked against botocore's service model; metric regexes checked at Create.

Both refuse at Create what AWS refuses (or what no worker could ever apply) with a
ValidationException naming the member, instead of a tuning job that fails later.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from amtune.app.errors import ValidationError
from amtune.app.validation import validate_create_tuning_job
from amtune.app.validation.model_enums import ENUMS

from .requests import cli_style_request, multi_definition_request, sdk_style_request

Request = dict[str, Any]
DEF = "trainingJobDefinition"
KEY = "TrainingJobDefinition"
REPO = Path(__file__).resolve().parents[2]


def refusal(request: Request) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_create_tuning_job(request)
    assert caught.value.code == "ValidationException"
    return caught.value.message


def enum_error(value: str, path: str, values: tuple[str, ...]) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{path}' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{', '.join(values)}]"
    )


INSTANCE_TYPES = ENUMS["TrainingInstanceType"]


def _tuning_resources(r: Request) -> None:
    r[KEY]["HyperParameterTuningResourceConfig"]["InstanceType"] = "ml.fake.huge"


def _plain_resources(r: Request) -> None:
    r[KEY]["ResourceConfig"]["InstanceType"] = "ml.fake.huge"


def _instance_configs(r: Request) -> None:
    r[KEY]["HyperParameterTuningResourceConfig"] = {
        "InstanceConfigs": [
            {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
            {"InstanceType": "ml.fake.huge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        ]
    }


@pytest.mark.parametrize(
    ("base", "change", "path"),
    [
        (
            sdk_style_request,
            _tuning_resources,
            f"{DEF}.hyperParameterTuningResourceConfig.instanceType",
        ),
        (cli_style_request, _plain_resources, f"{DEF}.resourceConfig.instanceType"),
        (
            sdk_style_request,
            _instance_configs,
            f"{DEF}.hyperParameterTuningResourceConfig.instanceConfigs.2.member.instanceType",
        ),
    ],
    ids=["tuning-resource-config", "resource-config", "instance-configs"],
)
def test_an_instance_type_aws_does_not_have_is_refused(
    base: Callable[[], Request], change: Callable[[Request], None], path: str
) -> None:
    request = base()
    change(request)

    assert refusal(request) == enum_error("ml.fake.huge", path, INSTANCE_TYPES)


def test_every_instance_type_of_the_model_is_accepted_including_new_families() -> None:
    for instance_type in ("ml.m5.large", "ml.p6-b200.48xlarge", "ml.m7i-flex.large"):
        assert instance_type in INSTANCE_TYPES
        request = sdk_style_request()
        request[KEY]["HyperParameterTuningResourceConfig"]["InstanceType"] = instance_type
        validate_create_tuning_job(request)


def test_other_definition_enums_come_from_the_model() -> None:
    request = sdk_style_request()
    request[KEY]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] = "S3Folder"
    path = f"{DEF}.inputDataConfig.1.member.dataSource.s3DataSource.s3DataType"

    assert refusal(request) == enum_error("S3Folder", path, ENUMS["S3DataType"])


def test_the_committed_enums_are_what_the_generator_makes_from_botocore() -> None:
    """Fails when botocore was upgraded without re-running tools/generate_model_enums.py."""
    spec = importlib.util.spec_from_file_location(
        "generate_model_enums", REPO / "tools" / "generate_model_enums.py"
    )
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    from botocore.loaders import Loader

    shapes = Loader().load_service_model("sagemaker", "service-2")["shapes"]
    expected = generator.render(generator.reachable_enums(shapes, generator.ROOT_SHAPE))
    committed = (REPO / "service/amtune/app/validation/model_enums.py").read_text()
    assert committed == expected


# --- MetricDefinitions regexes --------------------------------------------------------------

METRICS = f"{DEF}.algorithmSpecification.metricDefinitions"


def with_second_metric(regex: str) -> Request:
    request = sdk_style_request()
    request[KEY]["AlgorithmSpecification"]["MetricDefinitions"].append(
        {"Name": "train:loss", "Regex": regex}
    )
    return request


def test_a_regex_that_does_not_compile_is_refused_naming_the_definition() -> None:
    message = refusal(with_second_metric("train-loss=([0-9.]+"))

    assert message.startswith(
        f"The Regex 'train-loss=([0-9.]+' of the metric definition 'train:loss' at "
        f"'{METRICS}.2.member.regex' is not a valid regular expression ("
    )


def test_a_regex_without_a_capture_group_is_refused_naming_the_definition() -> None:
    message = refusal(with_second_metric("train-loss=[0-9.]+"))

    assert message.startswith(
        f"The Regex 'train-loss=[0-9.]+' of the metric definition 'train:loss' at "
        f"'{METRICS}.2.member.regex' has no capture group."
    )


def test_a_bad_regex_in_a_later_definition_names_that_definition() -> None:
    request = multi_definition_request()
    request["TrainingJobDefinitions"][1]["AlgorithmSpecification"]["MetricDefinitions"][0][
        "Regex"
    ] = "acc=(?P<v"

    message = refusal(request)

    assert (
        "'trainingJobDefinitions.2.member.algorithmSpecification.metricDefinitions.1.member.regex'"
        in message
    )


@pytest.mark.parametrize("regex", ["loss=([0-9.]+)", "(?P<value>[0-9.]+) loss", "a(?:b)(c)"])
def test_regexes_with_a_capture_group_are_accepted(regex: str) -> None:
    validate_create_tuning_job(with_second_metric(regex))
