"""The AWS CLI v1, unmodified, against amtune: what a user types into a shell.

The CLI runs as a subprocess with static keys and empty config files, pointed at the live
server once with ``--endpoint-url`` and once with ``AWS_ENDPOINT_URL_SAGEMAKER``; errors must
come out the way the CLI prints AWS's own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.app.requests import cli_style_request
from tests.conftest import LiveServer
from tests.service.clients import CliResult, finish_training_jobs, hermetic_aws_env, run_aws
from tests.service.protocol import RestWorker

OBJECTIVE = "validation:accuracy"


def write_request(directory: Path, request: dict[str, Any]) -> str:
    path = directory / "tuning-job.json"
    path.write_text(json.dumps(request, indent=2))
    return f"file://{path}"


def assert_cli_error(result: CliResult, code: str, operation: str) -> str:
    """The CLI's one-line error format and its exit status for service errors."""
    assert result.returncode == 255, (result.returncode, result.stdout, result.stderr)
    prefix = f"An error occurred ({code}) when calling the {operation} operation: "
    line = result.stderr.strip()
    assert line.startswith(prefix), line
    return line.removeprefix(prefix)


def test_create_and_describe_from_a_json_file(live_server: LiveServer, tmp_path: Path) -> None:
    request = cli_style_request()
    env = hermetic_aws_env(tmp_path / "home")
    endpoint = ["--endpoint-url", live_server.url]

    created = run_aws(
        [
            "create-hyper-parameter-tuning-job",
            *endpoint,
            "--cli-input-json",
            write_request(tmp_path, request),
        ],
        env,
        tmp_path,
    ).json()
    assert created["HyperParameterTuningJobArn"].endswith(":hyper-parameter-tuning-job/cli-job-1")
    assert created["HyperParameterTuningJobArn"].startswith(
        f"arn:aws:sagemaker:us-east-1:{live_server.settings.account_id}:"
    )

    described = run_aws(
        [
            "describe-hyper-parameter-tuning-job",
            *endpoint,
            "--hyper-parameter-tuning-job-name",
            "cli-job-1",
        ],
        env,
        tmp_path,
    ).json()
    assert described["HyperParameterTuningJobName"] == "cli-job-1"
    assert described["HyperParameterTuningJobArn"] == created["HyperParameterTuningJobArn"]
    assert described["HyperParameterTuningJobStatus"] == "InProgress"
    config = described["HyperParameterTuningJobConfig"]
    sent = request["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Random"
    assert config["RandomSeed"] == 42
    assert config["ResourceLimits"] == sent["ResourceLimits"]
    assert config["HyperParameterTuningJobObjective"] == sent["HyperParameterTuningJobObjective"]
    assert (
        config["ParameterRanges"]["ContinuousParameterRanges"]
        == (sent["ParameterRanges"]["ContinuousParameterRanges"])
    )
    assert [r["Name"] for r in config["ParameterRanges"]["IntegerParameterRanges"]] == ["max_depth"]
    definition = described["TrainingJobDefinition"]
    sent_definition = request["TrainingJobDefinition"]
    assert definition["StaticHyperParameters"] == {
        **sent_definition["StaticHyperParameters"],
        "_tuning_objective_metric": OBJECTIVE,
    }
    # Fields amtune does not use are stored and echoed back, as the issue promises.
    for echoed in ("RoleArn", "OutputDataConfig", "ResourceConfig", "RetryStrategy"):
        assert definition[echoed] == sent_definition[echoed], echoed
    assert (
        definition["AlgorithmSpecification"]["TrainingImage"]
        == (sent_definition["AlgorithmSpecification"]["TrainingImage"])
    )
    assert described["TrainingJobStatusCounters"]["Completed"] == 0
    assert "BestTrainingJob" not in described


def test_list_training_jobs_sorted_by_objective(live_server: LiveServer, tmp_path: Path) -> None:
    env = hermetic_aws_env(tmp_path / "home", AWS_ENDPOINT_URL_SAGEMAKER=live_server.url)
    request = cli_style_request()
    request["HyperParameterTuningJobName"] = "cli-sorted"
    run_aws(
        ["create-hyper-parameter-tuning-job", "--cli-input-json", write_request(tmp_path, request)],
        env,
        tmp_path,
    ).json()

    scores = iter([0.71, 0.93, 0.82])
    finished = finish_training_jobs(
        live_server.url, "cli-sorted", OBJECTIVE, lambda _hp: next(scores), limit=3
    )
    # A fourth job is claimed and still running: it has no objective yet.
    running = RestWorker(live_server.url).claim_job("cli-sorted")["TrainingJobName"]

    listed = run_aws(
        [
            "list-training-jobs-for-hyper-parameter-tuning-job",
            "--hyper-parameter-tuning-job-name",
            "cli-sorted",
            "--sort-by",
            "FinalObjectiveMetricValue",
            "--sort-order",
            "Descending",
        ],
        env,
        tmp_path,
    ).json()["TrainingJobSummaries"]

    best_first = sorted(finished, key=lambda job: job.objective, reverse=True)
    # Sorting by the objective omits jobs that have none, as AWS does.
    assert [s["TrainingJobName"] for s in listed] == [job.name for job in best_first]
    assert running not in {s["TrainingJobName"] for s in listed}
    for summary, job in zip(listed, best_first, strict=True):
        assert summary["TrainingJobStatus"] == "Completed"
        assert summary["FinalHyperParameterTuningJobObjectiveMetric"] == {
            "Type": "Maximize",
            "MetricName": OBJECTIVE,
            "Value": job.objective,
        }
        assert summary["ObjectiveStatus"] == "Succeeded"
        assert summary["TunedHyperParameters"] == {
            name: job.hyperparameters[name] for name in ("eta", "max_depth")
        }
        assert summary["TuningJobName"] == "cli-sorted"

    everything = run_aws(
        [
            "list-training-jobs-for-hyper-parameter-tuning-job",
            "--hyper-parameter-tuning-job-name",
            "cli-sorted",
        ],
        env,
        tmp_path,
    ).json()["TrainingJobSummaries"]
    assert {s["TrainingJobName"] for s in everything} == {job.name for job in finished} | {running}

    described = run_aws(
        ["describe-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", "cli-sorted"],
        env,
        tmp_path,
    ).json()
    assert described["BestTrainingJob"]["TrainingJobName"] == best_first[0].name
    assert described["TrainingJobStatusCounters"]["Completed"] == 3
    assert described["TrainingJobStatusCounters"]["InProgress"] == 1


def test_missing_tuning_job_is_resource_not_found(live_server: LiveServer, tmp_path: Path) -> None:
    env = hermetic_aws_env(tmp_path / "home", AWS_ENDPOINT_URL_SAGEMAKER=live_server.url)

    result = run_aws(
        ["describe-hyper-parameter-tuning-job", "--hyper-parameter-tuning-job-name", "no-such-job"],
        env,
        tmp_path,
    )

    message = assert_cli_error(result, "ResourceNotFound", "DescribeHyperParameterTuningJob")
    assert "no-such-job" in message
    assert result.stdout == ""


def test_missing_training_job_is_a_validation_error(
    live_server: LiveServer, tmp_path: Path
) -> None:
    env = hermetic_aws_env(tmp_path / "home")

    result = run_aws(
        [
            "describe-training-job",
            "--endpoint-url",
            live_server.url,
            "--training-job-name",
            "nope-001-0123abcd",
        ],
        env,
        tmp_path,
    )

    # A missing training job is a ValidationException on AWS, not ResourceNotFound.
    message = assert_cli_error(result, "ValidationException", "DescribeTrainingJob")
    assert "Requested resource not found" in message


def test_invalid_file_is_rejected_and_nothing_is_stored(
    live_server: LiveServer, tmp_path: Path
) -> None:
    env = hermetic_aws_env(tmp_path / "home", AWS_ENDPOINT_URL_SAGEMAKER=live_server.url)
    request = cli_style_request()
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Exhaustive"

    result = run_aws(
        ["create-hyper-parameter-tuning-job", "--cli-input-json", write_request(tmp_path, request)],
        env,
        tmp_path,
    )

    message = assert_cli_error(result, "ValidationException", "CreateHyperParameterTuningJob")
    assert "hyperParameterTuningJobConfig.strategy" in message
    listed = run_aws(["list-hyper-parameter-tuning-jobs"], env, tmp_path).json()
    assert listed["HyperParameterTuningJobSummaries"] == []
