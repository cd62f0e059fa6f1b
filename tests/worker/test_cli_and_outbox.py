"""The ``amtune worker`` command line, and the outbox that keeps finished results."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from amtune.sdk.errors import EndpointConnectionError
from amtune.sdk.protocol import WorkerProtocol
from amtune.sdk.transport import RetryPolicy
from amtune.worker import cli, outbox
from amtune.worker.agent import Agent
from amtune.worker.jobdir import layout_for


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_command_after_double_dash_keeps_its_own_options() -> None:
    args = parse(
        "--endpoint", "http://h:1", "--tuning-job", "tj", "--concurrency", "3",
        "--channel", "train=/data", "--", "python", "train.py", "--epochs", "2",
    )  # fmt: skip
    config = cli.config_from(args)
    assert config.command == ["python", "train.py", "--epochs", "2"]
    assert config.concurrency == 3
    assert config.channels == {"train": Path("/data")}
    assert config.endpoint_url == "http://h:1" and config.tuning_job_name == "tj"


def test_opt_ml_needs_concurrency_one() -> None:
    args = parse(
        "--endpoint", "http://h:1", "--tuning-job", "tj", "--concurrency", "2",
        "--opt-ml", "/opt/ml", "--", "python", "train.py",
    )  # fmt: skip
    with pytest.raises(ValueError, match="concurrency 1"):
        Agent(cli.config_from(args))
    assert cli.run(args) == 2


def test_a_command_is_required() -> None:
    with pytest.raises(ValueError, match="training command"):
        Agent(cli.config_from(parse("--endpoint", "http://h:1", "--tuning-job", "tj")))


def report(job: str, tuning_job: str = "tj") -> outbox.PendingReport:
    return outbox.PendingReport(
        training_job_name=job,
        tuning_job_name=tuning_job,
        action="complete",
        body={"FinalMetricDataList": [{"MetricName": "acc", "Value": 0.9}], "WorkerId": "w"},
        outcome="Completed",
        objective=0.9,
    )


def test_outboxes_are_found_per_tuning_job(tmp_path: Path) -> None:
    for job, tuning_job in (("tj-001-a", "tj"), ("tj-002-b", "tj"), ("other-001-c", "other")):
        layout = layout_for(tmp_path, job)
        layout.root.mkdir()
        outbox.save(layout, report(job, tuning_job))
    found = outbox.pending_in(tmp_path, "tj")
    assert [r.training_job_name for _, r in found] == ["tj-001-a", "tj-002-b"]
    assert found[0][1].body["FinalMetricDataList"][0]["Value"] == 0.9


def test_delivery_retires_the_outbox_even_when_the_service_says_409(tmp_path: Path) -> None:
    layout = layout_for(tmp_path, "tj-001-a")
    layout.root.mkdir()
    outbox.save(layout, report("tj-001-a"))
    answers: Iterator[httpx.Response | Exception] = iter(
        [
            httpx.ConnectError("refused"),
            httpx.Response(409, json={"__type": "TrainingJobNotInProgress", "message": "ended"}),
        ]
    )
    sent: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    protocol = WorkerProtocol("http://amtune.test", transport=httpx.MockTransport(handler))
    retry = RetryPolicy(max_attempts=None, base_delay=0.01, max_delay=0.02)
    answer = outbox.deliver(protocol, layout, report("tj-001-a"), retry=retry, cancel=None)
    assert answer.startswith("refused (TrainingJobNotInProgress)")
    assert sent[0] == report("tj-001-a").body  # the saved body, WorkerId included
    assert not layout.outbox_file.exists()
    assert json.loads(layout.report_file.read_text())["answer"] == answer


def test_undeliverable_result_stays_in_the_outbox(tmp_path: Path) -> None:
    layout = layout_for(tmp_path, "tj-001-a")
    layout.root.mkdir()
    outbox.save(layout, report("tj-001-a"))

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    protocol = WorkerProtocol("http://amtune.test", transport=httpx.MockTransport(refuse))
    with pytest.raises(EndpointConnectionError):
        outbox.deliver(
            protocol, layout, report("tj-001-a"), retry=RetryPolicy(max_attempts=2), cancel=None
        )
    assert layout.outbox_file.exists()
