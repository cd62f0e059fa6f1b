"""The tuning job the examples use, as the request SageMaker's CreateHyperParameterTuningJob takes.

Shared by ``boto3_tune.py`` and ``python_worker.py`` so that both tune the same thing.
"""

from __future__ import annotations

from typing import Any

OBJECTIVE = "validation:accuracy"
LOG = "Logarithmic"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/sklearn-digits:latest"


def request(name: str, *, max_jobs: int = 12, max_parallel: int = 3) -> dict[str, Any]:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Maximize", "MetricName": OBJECTIVE},
            "ResourceLimits": {
                "MaxNumberOfTrainingJobs": max_jobs,
                "MaxParallelTrainingJobs": max_parallel,
            },
            "ParameterRanges": {
                "ContinuousParameterRanges": [
                    {
                        "Name": "C",
                        "MinValue": "0.01",
                        "MaxValue": "100",
                        "ScalingType": "Logarithmic",
                    },
                    {
                        "Name": "gamma",
                        "MinValue": "0.0001",
                        "MaxValue": "1",
                        "ScalingType": "Logarithmic",
                    },
                ],
                "CategoricalParameterRanges": [{"Name": "kernel", "Values": ["rbf", "linear"]}],
            },
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {},
            "AlgorithmSpecification": {
                # On SageMaker: your training image. amtune stores it and runs your command instead.
                "TrainingImage": IMAGE,
                "TrainingInputMode": "File",
                "MetricDefinitions": [
                    {"Name": OBJECTIVE, "Regex": r"validation:accuracy=([0-9.]+)"}
                ],
            },
            "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
            "OutputDataConfig": {"S3OutputPath": "s3://my-bucket/digits"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }
