"""Realistic CreateHyperParameterTuningJob bodies, reusable by any test that needs one.

Each factory returns a fresh deep copy, so a test may mutate it freely. The SDK-style body is
what SageMaker Python SDK v2 sends from ``HyperparameterTuner.fit()``.
"""

from __future__ import annotations

import copy
from typing import Any

ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"
TRAINING_IMAGE = "123.dkr.ecr.us-east-1.amazonaws.com/img:latest"

_SDK_STYLE: dict[str, Any] = {
    "HyperParameterTuningJobName": "xgb-251127-2359",
    "HyperParameterTuningJobConfig": {
        "Strategy": "Bayesian",
        "ResourceLimits": {"MaxNumberOfTrainingJobs": 20, "MaxParallelTrainingJobs": 2},
        "TrainingJobEarlyStoppingType": "Off",
        "HyperParameterTuningJobObjective": {
            "Type": "Maximize",
            "MetricName": "validation:accuracy",
        },
        "ParameterRanges": {
            "ContinuousParameterRanges": [
                {"Name": "eta", "MinValue": "0.01", "MaxValue": "0.3", "ScalingType": "Auto"},
                {
                    "Name": "subsample",
                    "MinValue": "0.5",
                    "MaxValue": "1.0",
                    "ScalingType": "Auto",
                },
            ],
            "CategoricalParameterRanges": [
                {"Name": "booster", "Values": ["gbtree", "dart"]},
            ],
            "IntegerParameterRanges": [
                {"Name": "max_depth", "MinValue": "3", "MaxValue": "10", "ScalingType": "Auto"},
            ],
        },
    },
    "TrainingJobDefinition": {
        "StaticHyperParameters": {"num_round": "100", "objective": "binary:logistic"},
        "RoleArn": ROLE_ARN,
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "HyperParameterTuningResourceConfig": {
            "InstanceType": "ml.m5.large",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        },
        "AlgorithmSpecification": {
            "TrainingInputMode": "File",
            "TrainingImage": TRAINING_IMAGE,
            "MetricDefinitions": [
                {"Name": "validation:accuracy", "Regex": "validation:accuracy=([0-9\\.]+)"}
            ],
        },
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://bucket/train",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
            },
            {
                "ChannelName": "validation",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": "s3://bucket/validation",
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "ContentType": "text/csv",
            },
        ],
    },
}


def sdk_style_request() -> dict[str, Any]:
    """Bayesian, 20 jobs, HyperParameterTuningResourceConfig, ScalingType Auto everywhere."""
    return copy.deepcopy(_SDK_STYLE)


def cli_style_request() -> dict[str, Any]:
    """What a hand-written ``--cli-input-json`` file tends to hold: ResourceConfig, Random,
    no ScalingType, explicit Linear/Logarithmic where wanted, tags and a retry strategy."""
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "cli-job-1"
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = "Random"
    config["RandomSeed"] = 42
    config["ResourceLimits"]["MaxRuntimeInSeconds"] = 3600
    config["ParameterRanges"] = {
        "ContinuousParameterRanges": [
            {"Name": "eta", "MinValue": "1e-3", "MaxValue": "0.3", "ScalingType": "Logarithmic"}
        ],
        "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "10"}],
    }
    definition = request["TrainingJobDefinition"]
    del definition["HyperParameterTuningResourceConfig"]
    definition["ResourceConfig"] = {
        "InstanceType": "ml.c5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 10,
    }
    definition["RetryStrategy"] = {"MaximumRetryAttempts": 2}
    definition["Environment"] = {"LOG_LEVEL": "debug"}
    request["Tags"] = [{"Key": "team", "Value": "ml-platform"}]
    return request


def grid_request() -> dict[str, Any]:
    """Grid over 3 x 2 categorical values, without MaxNumberOfTrainingJobs (AMT computes 6)."""
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "grid-job"
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = "Grid"
    config["ResourceLimits"] = {"MaxParallelTrainingJobs": 2}
    config["ParameterRanges"] = {
        "CategoricalParameterRanges": [
            {"Name": "max_depth", "Values": ["3", "5", "7"]},
            {"Name": "booster", "Values": ["gbtree", "dart"]},
        ]
    }
    return request


def multi_definition_request() -> dict[str, Any]:
    """Two TrainingJobDefinitions, each with its own name, objective and ranges."""
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = "multi-algo"
    config = request.pop("HyperParameterTuningJobConfig")
    objective = config.pop("HyperParameterTuningJobObjective")
    ranges = config.pop("ParameterRanges")
    request["HyperParameterTuningJobConfig"] = config
    first = request.pop("TrainingJobDefinition")
    second = copy.deepcopy(first)
    first.update(DefinitionName="xgboost", TuningObjective=objective, HyperParameterRanges=ranges)
    second["StaticHyperParameters"] = {"epochs": "10"}
    second.update(
        DefinitionName="mlp",
        TuningObjective=copy.deepcopy(objective),
        HyperParameterRanges={
            "ContinuousParameterRanges": [
                {
                    "Name": "learning_rate",
                    "MinValue": "0.0001",
                    "MaxValue": "0.1",
                    "ScalingType": "Logarithmic",
                }
            ]
        },
    )
    request["TrainingJobDefinitions"] = [first, second]
    return request


def random_request(name: str, max_jobs: int = 4, parallel: int = 2) -> dict[str, Any]:
    """The SDK-style request as a seeded Random job with the given name and limits."""
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = "Random"
    config["RandomSeed"] = 7
    config["ResourceLimits"] = {
        "MaxNumberOfTrainingJobs": max_jobs,
        "MaxParallelTrainingJobs": parallel,
    }
    return request
