"""Typed hyperparameters for Python training code, and the toolkit's view for scripts."""

from __future__ import annotations

import pytest

from amtune.sdk.hyperparameters import (
    decode,
    guess_type,
    ranges_of_tuning_job,
    toolkit_args,
    toolkit_env_value,
    toolkit_user_hyperparameters,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3", 3),
        ("-12", -12),
        ("0.001", 0.001),
        ("1e-05", 1e-05),
        ("-2.5E3", -2500.0),
        (".5", 0.5),
        ("adam", "adam"),
        ("true", "true"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("1_000", "1_000"),
        ("", ""),
        ('"adam"', '"adam"'),
    ],
)
def test_guess_type(raw: str, expected: object) -> None:
    value = guess_type(raw)
    assert value == expected and type(value) is type(expected)


def test_ranges_decide_types_exactly() -> None:
    described = {
        "HyperParameterTuningJobConfig": {
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "depth", "MinValue": "1", "MaxValue": "9"}],
                "ContinuousParameterRanges": [{"Name": "lr", "MinValue": "1", "MaxValue": "2"}],
                "CategoricalParameterRanges": [{"Name": "units", "Values": ["32", "64"]}],
            }
        }
    }
    types = ranges_of_tuning_job(described)
    decoded = decode(
        {
            "depth": "4",
            "lr": "1",  # a continuous value that happens to look like an integer
            "units": "64",  # a categorical value stays the string it is
            "static_int": "10",
            "_tuning_objective_metric": "loss",
            "sagemaker_program": "train.py",
        },
        types,
    )
    assert decoded == {"depth": 4, "lr": 1.0, "units": "64", "static_int": 10}
    assert type(decoded["lr"]) is float
    assert type(decoded["units"]) is str


def test_multi_definition_ranges_are_merged() -> None:
    described = {
        "HyperParameterTuningJobConfig": {},
        "TrainingJobDefinitions": [
            {"HyperParameterRanges": {"IntegerParameterRanges": [{"Name": "a"}]}},
            {"HyperParameterRanges": {"ContinuousParameterRanges": [{"Name": "b"}]}},
        ],
    }
    assert ranges_of_tuning_job(described) == {"a": int, "b": float}


def test_toolkit_decoding_for_unchanged_scripts() -> None:
    raw = {
        "lr": "0.1",
        "optimizer": '"adam"',
        "name": "gbtree",
        "layers": "[1, 2]",
        "_tuning_objective_metric": "loss",
        "sagemaker_region": '"us-east-1"',
    }
    user = toolkit_user_hyperparameters(raw)
    assert user == {"lr": 0.1, "optimizer": "adam", "name": "gbtree", "layers": [1, 2]}
    assert toolkit_env_value(user["layers"]) == "[1,2]"
    assert toolkit_env_value(user["optimizer"]) == "adam"
    assert toolkit_args(user) == [
        "--layers", "[1,2]", "--lr", "0.1", "--name", "gbtree", "--optimizer", "adam",
    ]  # fmt: skip
