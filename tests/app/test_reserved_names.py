"""Names the service and the SageMaker toolkits set cannot be tuned or contradicted.

A range named ``_tuning_objective_metric`` would overwrite, in every claim, the key that tells
the training code its objective; a ``sagemaker_*`` range would be read by the toolkit as its own
setting. A static ``_tuning_objective_metric`` that differs from the objective would be
silently replaced. Each is refused with the field named, and nothing is stored.
"""

from __future__ import annotations

from typing import Any

import pytest

from amtune.app.claims import Claim
from amtune.app.errors import ResourceNotFound, ValidationError
from amtune.app.service import Tuner

from .requests import multi_definition_request, sdk_style_request

OBJECTIVE = "validation:accuracy"


def with_range(name: str) -> dict[str, Any]:
    request = sdk_style_request()
    ranges = request["HyperParameterTuningJobConfig"]["ParameterRanges"]
    ranges["CategoricalParameterRanges"].append({"Name": name, "Values": ["a", "b"]})
    return request


@pytest.mark.parametrize(
    "name", ["_tuning_objective_metric", "sagemaker_program", "sagemaker_anything"]
)
def test_a_reserved_range_name_is_refused_and_nothing_stored(tuner: Tuner, name: str) -> None:
    request = with_range(name)
    caller = tuner.default_caller()
    with pytest.raises(ValidationError) as refused:
        tuner.create_tuning_job(caller, request)
    message = refused.value.message
    assert f"'{name}'" in message and "categoricalParameterRanges.2.member.name" in message
    assert "reserved" in message
    with pytest.raises(ResourceNotFound):
        tuner.describe_tuning_job(caller, request["HyperParameterTuningJobName"])


def test_a_reserved_name_in_a_definitions_own_ranges_is_refused(tuner: Tuner) -> None:
    request = multi_definition_request()
    definition = request["TrainingJobDefinitions"][1]
    definition["HyperParameterRanges"].setdefault("IntegerParameterRanges", []).append(
        {"Name": "sagemaker_region", "MinValue": "1", "MaxValue": "2"}
    )
    with pytest.raises(
        ValidationError, match=r"trainingJobDefinitions\.2\.member\.hyperParameterRanges"
    ):
        tuner.create_tuning_job(tuner.default_caller(), request)


def test_a_static_objective_key_that_disagrees_is_refused(tuner: Tuner) -> None:
    request = sdk_style_request()
    static = request["TrainingJobDefinition"]["StaticHyperParameters"]
    static["_tuning_objective_metric"] = "train:loss"
    with pytest.raises(ValidationError) as refused:
        tuner.create_tuning_job(tuner.default_caller(), request)
    message = refused.value.message
    assert "trainingJobDefinition.staticHyperParameters" in message
    assert "'train:loss'" in message and f"'{OBJECTIVE}'" in message


def test_static_keys_the_sdk_sends_are_kept(tuner: Tuner) -> None:
    """What Describe echoes (the objective key, equal to the objective) and what framework
    estimators send (``sagemaker_program``...) stay valid static hyperparameters."""
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "echoed"
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Random"
    static = request["TrainingJobDefinition"]["StaticHyperParameters"]
    static["_tuning_objective_metric"] = OBJECTIVE
    static["sagemaker_program"] = '"train.py"'
    caller = tuner.default_caller()
    tuner.create_tuning_job(caller, request)
    claimed = tuner.claim(caller, "echoed", "w")
    assert isinstance(claimed, Claim)
    assert claimed.hyperparameters["_tuning_objective_metric"] == OBJECTIVE
    assert claimed.hyperparameters["sagemaker_program"] == '"train.py"'
