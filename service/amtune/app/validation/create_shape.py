"""The CreateHyperParameterTuningJob request shape (botocore's service model).

Only the members amtune reads or stores are described; other members of the model are ignored
like any unknown member. Enum value sets come from the model itself (``model_enums``, generated
by tools/generate_model_enums.py), so ``InstanceType`` accepts exactly the instance types AWS
does. One deliberate approximation: ``ParentHyperParameterTuningJob.HyperParameterTuningJobName``
is optional in the model but meaningless without a value, so it is required here.
"""

from __future__ import annotations

import unicodedata

from amtune.app.validation.model_enums import ENUMS
from amtune.app.validation.names import DEFINITION_NAME, TUNING_JOB_NAME
from amtune.app.validation.shapes import (
    Bool,
    Int,
    ListOf,
    MapOf,
    Num,
    Pattern,
    Str,
    Struct,
    optional,
    required,
)

STRATEGIES = ENUMS["HyperParameterTuningJobStrategyType"]
SCALING_TYPES = ENUMS["HyperParameterScalingType"]
TRAINING_INPUT_MODES = ENUMS["TrainingInputMode"]

ANY_TEXT = Pattern.java(".*")
PARAMETER_KEY = Str(min_len=0, max_len=256, pattern=ANY_TEXT)
PARAMETER_VALUE = Str(min_len=0, max_len=256, pattern=ANY_TEXT)
METRIC_NAME = Str(min_len=1, max_len=255, pattern=Pattern.java(".+"))
S3_URI = Str(min_len=0, max_len=1024, pattern=Pattern.java("(https|s3)://([^/]+)/?(.*)"))
KMS_KEY_ID = Str(min_len=0, max_len=2048, pattern=Pattern.java("[a-zA-Z0-9:/_-]*"))
INSTANCE_TYPE = Str(enum=ENUMS["TrainingInstanceType"])
INSTANCE_COUNT = Int(min=0)

# Java's \p{L}\p{Z}\p{N} have no equivalent in Python's re: check Unicode categories directly.
_TAG_PUNCTUATION = frozenset("_.:/=+-@")


def _is_tag_text(value: str) -> bool:
    return all(char in _TAG_PUNCTUATION or unicodedata.category(char)[0] in "LZN" for char in value)


TAG_TEXT = Pattern("([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)", _is_tag_text)

OBJECTIVE = Struct(
    (
        required("Type", Str(enum=ENUMS["HyperParameterTuningJobObjectiveType"])),
        required("MetricName", METRIC_NAME),
    )
)


def _numeric_range() -> Struct:
    return Struct(
        (
            required("Name", PARAMETER_KEY),
            required("MinValue", PARAMETER_VALUE),
            required("MaxValue", PARAMETER_VALUE),
            optional("ScalingType", Str(enum=SCALING_TYPES)),
        )
    )


PARAMETER_RANGES = Struct(
    (
        optional("IntegerParameterRanges", ListOf(_numeric_range(), 0, 30)),
        optional("ContinuousParameterRanges", ListOf(_numeric_range(), 0, 30)),
        optional(
            "CategoricalParameterRanges",
            ListOf(
                Struct(
                    (
                        required("Name", PARAMETER_KEY),
                        required("Values", ListOf(PARAMETER_VALUE, 1, 30)),
                    )
                ),
                0,
                30,
            ),
        ),
        optional(
            "AutoParameters",
            ListOf(
                Struct((required("Name", PARAMETER_KEY), required("ValueHint", PARAMETER_VALUE))),
                0,
                100,
            ),
        ),
    )
)

TUNING_JOB_CONFIG = Struct(
    (
        required("Strategy", Str(enum=STRATEGIES)),
        optional(
            "StrategyConfig",
            Struct(
                (
                    optional(
                        "HyperbandStrategyConfig",
                        Struct(
                            (
                                optional("MinResource", Int(min=1)),
                                optional("MaxResource", Int(min=1)),
                            )
                        ),
                    ),
                )
            ),
        ),
        optional("HyperParameterTuningJobObjective", OBJECTIVE),
        required(
            "ResourceLimits",
            Struct(
                (
                    optional("MaxNumberOfTrainingJobs", Int(min=1)),
                    required("MaxParallelTrainingJobs", Int(min=1)),
                    optional("MaxRuntimeInSeconds", Int(min=120, max=15768000)),
                )
            ),
        ),
        optional("ParameterRanges", PARAMETER_RANGES),
        optional("TrainingJobEarlyStoppingType", Str(enum=ENUMS["TrainingJobEarlyStoppingType"])),
        optional(
            "TuningJobCompletionCriteria",
            Struct(
                (
                    optional("TargetObjectiveMetricValue", Num()),
                    optional(
                        "BestObjectiveNotImproving",
                        Struct((optional("MaxNumberOfTrainingJobsNotImproving", Int(min=3)),)),
                    ),
                    optional(
                        "ConvergenceDetected",
                        Struct(
                            (
                                optional(
                                    "CompleteOnConvergence",
                                    Str(enum=ENUMS["CompleteOnConvergence"]),
                                ),
                            )
                        ),
                    ),
                )
            ),
        ),
        optional("RandomSeed", Int(min=0)),
    )
)

ALGORITHM_SPECIFICATION = Struct(
    (
        optional("TrainingImage", Str(min_len=0, max_len=255, pattern=ANY_TEXT)),
        required("TrainingInputMode", Str(enum=TRAINING_INPUT_MODES)),
        optional(
            "AlgorithmName",
            Str(
                min_len=1,
                max_len=170,
                pattern=Pattern.java(
                    "(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?"
                    "([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)"
                ),
            ),
        ),
        optional(
            "MetricDefinitions",
            ListOf(
                Struct(
                    (
                        required("Name", METRIC_NAME),
                        required("Regex", Str(min_len=1, max_len=500, pattern=Pattern.java(".+"))),
                    )
                ),
                0,
                40,
            ),
        ),
    )
)

CHANNEL = Struct(
    (
        required(
            "ChannelName", Str(min_len=1, max_len=64, pattern=Pattern.java("[A-Za-z0-9\\.\\-_]+"))
        ),
        required(
            "DataSource",
            Struct(
                (
                    optional(
                        "S3DataSource",
                        Struct(
                            (
                                required(
                                    "S3DataType",
                                    Str(enum=ENUMS["S3DataType"]),
                                ),
                                required("S3Uri", S3_URI),
                                optional(
                                    "S3DataDistributionType",
                                    Str(enum=ENUMS["S3DataDistribution"]),
                                ),
                            )
                        ),
                    ),
                )
            ),
        ),
        optional("ContentType", Str(min_len=0, max_len=256, pattern=ANY_TEXT)),
        optional("CompressionType", Str(enum=ENUMS["CompressionType"])),
        optional("RecordWrapperType", Str(enum=ENUMS["RecordWrapper"])),
        optional("InputMode", Str(enum=TRAINING_INPUT_MODES)),
        optional("ShuffleConfig", Struct((required("Seed", Int(long=True)),))),
    )
)

RESOURCE_CONFIG = Struct(
    (
        optional("InstanceType", INSTANCE_TYPE),
        optional("InstanceCount", INSTANCE_COUNT),
        optional("VolumeSizeInGB", Int(min=0)),
        optional("VolumeKmsKeyId", KMS_KEY_ID),
        optional("KeepAlivePeriodInSeconds", Int(min=0, max=21600)),
    )
)

TUNING_RESOURCE_CONFIG = Struct(
    (
        optional("InstanceType", INSTANCE_TYPE),
        optional("InstanceCount", INSTANCE_COUNT),
        optional("VolumeSizeInGB", Int(min=0)),
        optional("VolumeKmsKeyId", KMS_KEY_ID),
        optional("AllocationStrategy", Str(enum=ENUMS["HyperParameterTuningAllocationStrategy"])),
        optional(
            "InstanceConfigs",
            ListOf(
                Struct(
                    (
                        required("InstanceType", INSTANCE_TYPE),
                        required("InstanceCount", INSTANCE_COUNT),
                        required("VolumeSizeInGB", Int(min=1)),
                    )
                ),
                1,
                6,
            ),
        ),
    )
)

VPC_ID = Str(min_len=0, max_len=32, pattern=Pattern.java("[-0-9a-zA-Z]+"))

TRAINING_JOB_DEFINITION = Struct(
    (
        optional("DefinitionName", DEFINITION_NAME),
        optional("TuningObjective", OBJECTIVE),
        optional("HyperParameterRanges", PARAMETER_RANGES),
        optional(
            "StaticHyperParameters",
            MapOf(PARAMETER_KEY, Str(min_len=0, max_len=2500, pattern=ANY_TEXT), 0, 100),
        ),
        required("AlgorithmSpecification", ALGORITHM_SPECIFICATION),
        required(
            "RoleArn",
            Str(
                min_len=20,
                max_len=2048,
                pattern=Pattern.java("arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"),
            ),
        ),
        optional("InputDataConfig", ListOf(CHANNEL, 1, 20)),
        optional(
            "VpcConfig",
            Struct(
                (
                    required("SecurityGroupIds", ListOf(VPC_ID, 1, 5)),
                    required("Subnets", ListOf(VPC_ID, 1, 16)),
                )
            ),
        ),
        required(
            "OutputDataConfig",
            Struct(
                (
                    optional("KmsKeyId", KMS_KEY_ID),
                    required("S3OutputPath", S3_URI),
                    optional("CompressionType", Str(enum=ENUMS["OutputCompressionType"])),
                )
            ),
        ),
        optional("ResourceConfig", RESOURCE_CONFIG),
        optional("HyperParameterTuningResourceConfig", TUNING_RESOURCE_CONFIG),
        required(
            "StoppingCondition",
            Struct(
                (
                    optional("MaxRuntimeInSeconds", Int(min=1)),
                    optional("MaxWaitTimeInSeconds", Int(min=1)),
                    optional("MaxPendingTimeInSeconds", Int(min=1800, max=2419200)),
                )
            ),
        ),
        optional("EnableNetworkIsolation", Bool()),
        optional("EnableInterContainerTrafficEncryption", Bool()),
        optional("EnableManagedSpotTraining", Bool()),
        optional(
            "CheckpointConfig",
            Struct(
                (
                    required("S3Uri", S3_URI),
                    optional("LocalPath", Str(min_len=0, max_len=4096, pattern=ANY_TEXT)),
                )
            ),
        ),
        optional("RetryStrategy", Struct((required("MaximumRetryAttempts", Int(min=1, max=30)),))),
        optional(
            "Environment",
            MapOf(
                Str(min_len=0, max_len=512, pattern=Pattern.java("[a-zA-Z_][a-zA-Z0-9_]*")),
                Str(min_len=0, max_len=512, pattern=Pattern.java("[\\S\\s]*")),
                0,
                48,
            ),
        ),
    )
)

CREATE_TUNING_JOB = Struct(
    (
        required("HyperParameterTuningJobName", TUNING_JOB_NAME),
        required("HyperParameterTuningJobConfig", TUNING_JOB_CONFIG),
        optional("TrainingJobDefinition", TRAINING_JOB_DEFINITION),
        optional("TrainingJobDefinitions", ListOf(TRAINING_JOB_DEFINITION, 1, 10)),
        optional(
            "WarmStartConfig",
            Struct(
                (
                    required(
                        "ParentHyperParameterTuningJobs",
                        ListOf(
                            Struct((required("HyperParameterTuningJobName", TUNING_JOB_NAME),)),
                            1,
                            5,
                        ),
                    ),
                    required(
                        "WarmStartType", Str(enum=ENUMS["HyperParameterTuningJobWarmStartType"])
                    ),
                )
            ),
        ),
        optional(
            "Tags",
            ListOf(
                Struct(
                    (
                        required("Key", Str(min_len=1, max_len=128, pattern=TAG_TEXT)),
                        required("Value", Str(min_len=0, max_len=256, pattern=TAG_TEXT)),
                    )
                ),
                0,
                50,
            ),
        ),
        optional("Autotune", Struct((required("Mode", Str(enum=ENUMS["AutotuneMode"])),))),
    )
)
