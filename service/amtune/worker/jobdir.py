"""The SageMaker-like world a training script finds: one directory per training job.

An unchanged SageMaker script looks for ``/opt/ml/input/config/hyperparameters.json`` or the
environment the SageMaker training toolkit sets. Each job gets its own copy of that tree under the
worker's ``--workdir`` (so concurrent jobs never share files), and the environment points at it::

    <workdir>/<training-job-name>/
        input/config/hyperparameters.json   every hyperparameter, every value a string
        input/config/resourceconfig.json    a one-host cluster: algo-1
        input/config/inputdataconfig.json   the channels of the TrainingJobDefinition
        input/data/<channel>/               empty, or a link made by --channel NAME=PATH
        model/                              SM_MODEL_DIR
        output/data/                        SM_OUTPUT_DATA_DIR
        output/failure                      written by the script: becomes the FailureReason
        training.log                        everything the script printed (stdout + stderr)
        amtune-outbox.json / amtune-report.json   the job's end, before / after it was sent

Environment and arguments follow the SageMaker training toolkit's rules.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amtune.sdk.hyperparameters import (
    toolkit_args,
    toolkit_env_value,
    toolkit_user_hyperparameters,
)

CURRENT_HOST = "algo-1"


@dataclass(frozen=True)
class JobLayout:
    root: Path

    @property
    def input_dir(self) -> Path:
        return self.root / "input"

    @property
    def config_dir(self) -> Path:
        return self.input_dir / "config"

    @property
    def data_dir(self) -> Path:
        return self.input_dir / "data"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_dir(self) -> Path:
        return self.root / "output"

    @property
    def output_data_dir(self) -> Path:
        return self.output_dir / "data"

    @property
    def failure_file(self) -> Path:
        return self.output_dir / "failure"

    @property
    def hyperparameters_file(self) -> Path:
        return self.config_dir / "hyperparameters.json"

    @property
    def log_file(self) -> Path:
        return self.root / "training.log"

    @property
    def outbox_file(self) -> Path:
        return self.root / "amtune-outbox.json"

    @property
    def report_file(self) -> Path:
        return self.root / "amtune-report.json"


def layout_for(workdir: Path, training_job_name: str) -> JobLayout:
    return JobLayout(workdir / training_job_name)


def resource_config(definition: Mapping[str, Any]) -> dict[str, Any]:
    """A single-host cluster, with the instance type the definition asked for (if any)."""
    resource = definition.get("ResourceConfig") or {}
    instance_type = resource.get("InstanceType")
    if not instance_type:
        configs = (definition.get("HyperParameterTuningResourceConfig") or {}).get(
            "InstanceConfigs"
        ) or [{}]
        instance_type = configs[0].get("InstanceType") or (
            definition.get("HyperParameterTuningResourceConfig") or {}
        ).get("InstanceType")
    instance_type = instance_type or "local"
    return {
        "current_host": CURRENT_HOST,
        "current_instance_type": instance_type,
        "current_group_name": "homogeneousCluster",
        "hosts": [CURRENT_HOST],
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": instance_type,
                "hosts": [CURRENT_HOST],
            }
        ],
        "network_interface_name": "eth0",
    }


def input_data_config(definition: Mapping[str, Any]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    for channel in definition.get("InputDataConfig") or []:
        name = channel.get("ChannelName")
        if not isinstance(name, str):
            continue
        s3 = (channel.get("DataSource") or {}).get("S3DataSource") or {}
        channels[name] = {
            "TrainingInputMode": channel.get("InputMode")
            or (definition.get("AlgorithmSpecification") or {}).get("TrainingInputMode", "File"),
            "S3DistributionType": s3.get("S3DataDistributionType", "FullyReplicated"),
            "RecordWrapperType": channel.get("RecordWrapperType", "None"),
        }
        if "ContentType" in channel:
            channels[name]["ContentType"] = channel["ContentType"]
    return channels


def prepare(
    layout: JobLayout,
    hyperparameters: Mapping[str, str],
    definition: Mapping[str, Any],
    channels: Mapping[str, Path] | None = None,
) -> None:
    """Create the tree and write the three config files (idempotent)."""
    for directory in (
        layout.config_dir,
        layout.data_dir,
        layout.model_dir,
        layout.output_data_dir,
    ):
        directory.mkdir(parents=True, exist_ok=True)
    _write_json(layout.hyperparameters_file, {k: str(v) for k, v in hyperparameters.items()})
    _write_json(layout.config_dir / "resourceconfig.json", resource_config(definition))
    data_config = input_data_config(definition)
    for name in channels or {}:
        data_config.setdefault(
            name,
            {
                "TrainingInputMode": "File",
                "S3DistributionType": "FullyReplicated",
                "RecordWrapperType": "None",
            },
        )
    _write_json(layout.config_dir / "inputdataconfig.json", data_config)
    for name in data_config:
        target = layout.data_dir / name
        source = (channels or {}).get(name)
        if source is not None and not target.exists():
            target.symlink_to(source.resolve(), target_is_directory=True)
        else:
            target.mkdir(exist_ok=True)


def environment(
    layout: JobLayout,
    *,
    training_job_name: str,
    training_job_arn: str,
    hyperparameters: Mapping[str, str],
    definition: Mapping[str, Any],
    command_args: Sequence[str],
    base: Mapping[str, str],
) -> dict[str, str]:
    """The process environment: ``base`` + the definition's Environment + the SM_* variables."""
    user = toolkit_user_hyperparameters(hyperparameters)
    data_config = json.loads((layout.config_dir / "inputdataconfig.json").read_text())
    channel_names = sorted(data_config)
    resource = json.loads((layout.config_dir / "resourceconfig.json").read_text())
    env = dict(base)
    for key, value in (definition.get("Environment") or {}).items():
        env[str(key)] = str(value)
    sm: dict[str, str] = {
        "TRAINING_JOB_NAME": training_job_name,
        "TRAINING_JOB_ARN": training_job_arn,
        "SM_HPS": json.dumps(user, sort_keys=True),
        "SM_USER_ARGS": json.dumps(list(command_args)),
        "SM_MODEL_DIR": str(layout.model_dir),
        "SM_INPUT_DIR": str(layout.input_dir),
        "SM_INPUT_CONFIG_DIR": str(layout.config_dir),
        "SM_INPUT_DATA_CONFIG": json.dumps(data_config, sort_keys=True),
        "SM_OUTPUT_DIR": str(layout.output_dir),
        "SM_OUTPUT_DATA_DIR": str(layout.output_data_dir),
        "SM_OUTPUT_INTERMEDIATE_DIR": str(layout.output_dir / "intermediate"),
        "SM_RESOURCE_CONFIG": json.dumps(resource, sort_keys=True),
        "SM_CHANNELS": json.dumps(channel_names),
        "SM_HOSTS": json.dumps(resource["hosts"]),
        "SM_CURRENT_HOST": resource["current_host"],
        "SM_CURRENT_INSTANCE_TYPE": resource["current_instance_type"],
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "SM_LOG_LEVEL": "20",
        "SM_JOB_DIR": str(layout.root),
        "AMTUNE_JOB_DIR": str(layout.root),
        # Python buffers stdout when it is a pipe; metrics must reach us as they are printed.
        "PYTHONUNBUFFERED": "1",
    }
    for name in channel_names:
        sm[f"SM_CHANNEL_{name.upper()}"] = str(layout.data_dir / name)
    for key, value in user.items():
        sm[f"SM_HP_{key.upper()}"] = toolkit_env_value(value)
    sm["SM_TRAINING_ENV"] = json.dumps(
        {
            "job_name": training_job_name,
            "hyperparameters": user,
            "channel_input_dirs": {n: str(layout.data_dir / n) for n in channel_names},
            "current_host": resource["current_host"],
            "hosts": resource["hosts"],
            "model_dir": str(layout.model_dir),
            "output_data_dir": str(layout.output_data_dir),
            "input_config_dir": str(layout.config_dir),
            "num_cpus": os.cpu_count() or 1,
            "num_gpus": 0,
        },
        sort_keys=True,
    )
    env.update(sm)
    return env


def command_line(
    command: Sequence[str], hyperparameters: Mapping[str, str], *, add_arguments: bool = True
) -> tuple[list[str], list[str]]:
    """(full argv, the ``--name value`` arguments appended to COMMAND)."""
    extra = toolkit_args(toolkit_user_hyperparameters(hyperparameters)) if add_arguments else []
    return [*command, *extra], extra


def _write_json(path: Path, payload: Any) -> None:
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)
