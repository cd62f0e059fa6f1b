"""The SageMaker-like directory, environment and arguments a training script receives."""

from __future__ import annotations

import json
from pathlib import Path

from amtune.worker import jobdir

HPS = {
    "lr": "0.01",
    "depth": "4",
    "optimizer": '"adam"',
    "kind": "gbtree",
    "_tuning_objective_metric": "validation:accuracy",
    "sagemaker_program": '"train.py"',
}
DEFINITION = {
    "AlgorithmSpecification": {"TrainingInputMode": "File"},
    "InputDataConfig": [
        {
            "ChannelName": "train",
            "DataSource": {"S3DataSource": {"S3Uri": "s3://b/t", "S3DataType": "S3Prefix"}},
            "ContentType": "text/csv",
        }
    ],
    "HyperParameterTuningResourceConfig": {"InstanceType": "ml.c5.xlarge", "InstanceCount": 1},
    "Environment": {"MY_FLAG": "1"},
}


def build(tmp_path: Path) -> tuple[jobdir.JobLayout, dict[str, str], list[str]]:
    layout = jobdir.layout_for(tmp_path, "tj-001-abcdef12")
    jobdir.prepare(layout, HPS, DEFINITION, {"extra": tmp_path})
    argv, extra = jobdir.command_line(["python", "train.py"], HPS)
    env = jobdir.environment(
        layout,
        training_job_name="tj-001-abcdef12",
        training_job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/tj-001-abcdef12",
        hyperparameters=HPS,
        definition=DEFINITION,
        command_args=extra,
        base={"PATH": "/usr/bin", "MY_FLAG": "0"},
    )
    return layout, env, argv


def test_tree_and_config_files(tmp_path: Path) -> None:
    layout, _, _ = build(tmp_path)
    root = tmp_path / "tj-001-abcdef12"
    for sub in ("input/config", "input/data/train", "model", "output/data"):
        assert (root / sub).is_dir(), sub
    assert (root / "input/data/extra").resolve() == tmp_path.resolve()
    written = json.loads((root / "input/config/hyperparameters.json").read_text())
    assert written == HPS  # every key, every value the string it was
    resource = json.loads((root / "input/config/resourceconfig.json").read_text())
    assert resource["current_host"] == "algo-1" and resource["hosts"] == ["algo-1"]
    assert resource["current_instance_type"] == "ml.c5.xlarge"
    channels = json.loads((root / "input/config/inputdataconfig.json").read_text())
    assert channels["train"]["ContentType"] == "text/csv"
    assert channels["train"]["TrainingInputMode"] == "File"
    assert set(channels) == {"train", "extra"}
    assert layout.failure_file == root / "output" / "failure"


def test_environment_is_the_toolkits(tmp_path: Path) -> None:
    _, env, _ = build(tmp_path)
    root = str(tmp_path / "tj-001-abcdef12")
    assert env["TRAINING_JOB_NAME"] == "tj-001-abcdef12"
    assert env["SM_MODEL_DIR"] == f"{root}/model"
    assert env["SM_OUTPUT_DATA_DIR"] == f"{root}/output/data"
    assert env["SM_INPUT_CONFIG_DIR"] == f"{root}/input/config"
    assert env["SM_CHANNEL_TRAIN"] == f"{root}/input/data/train"
    assert json.loads(env["SM_CHANNELS"]) == ["extra", "train"]
    assert json.loads(env["SM_HPS"]) == {
        "lr": 0.01,
        "depth": 4,
        "optimizer": "adam",
        "kind": "gbtree",
    }
    assert env["SM_HP_LR"] == "0.01"
    assert env["SM_HP_OPTIMIZER"] == "adam"
    assert "SM_HP__TUNING_OBJECTIVE_METRIC" not in env
    assert "SM_HP_SAGEMAKER_PROGRAM" not in env
    assert env["MY_FLAG"] == "1"  # the definition's Environment wins over the worker's
    assert env["PATH"] == "/usr/bin"
    assert env["PYTHONUNBUFFERED"] == "1"


def test_arguments_are_sorted_name_value_pairs(tmp_path: Path) -> None:
    _, env, argv = build(tmp_path)
    assert argv == [
        "python", "train.py",
        "--depth", "4", "--kind", "gbtree", "--lr", "0.01", "--optimizer", "adam",
    ]  # fmt: skip
    assert json.loads(env["SM_USER_ARGS"]) == argv[2:]
    bare, extra = jobdir.command_line(["./run.sh"], HPS, add_arguments=False)
    assert bare == ["./run.sh"] and extra == []
