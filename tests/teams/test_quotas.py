"""Quotas per team, with the service settings as the defaults: ResourceLimitExceeded."""

from __future__ import annotations

import pytest

from amtune.app.context import Context
from amtune.app.errors import ValidationError
from amtune.app.teams import update_team
from tests.app.requests import random_request
from tests.conftest import LiveServer
from tests.teams.conftest import new_team
from tests.teams.signing import aws_error, boto3_for


def test_concurrent_tuning_jobs_quota_per_team(server: LiveServer, admin: Context) -> None:
    small = new_team(admin, max_concurrent_tuning_jobs=2)
    other = new_team(admin)
    sm, sm_other = boto3_for(server.url, small), boto3_for(server.url, other)
    sm.create_hyper_parameter_tuning_job(**random_request("one", 2, 1))
    sm.create_hyper_parameter_tuning_job(**random_request("two", 2, 1))
    with pytest.raises(sm.exceptions.ResourceLimitExceeded) as caught:
        sm.create_hyper_parameter_tuning_job(**random_request("three", 2, 1))
    code, message, status = aws_error(caught.value)
    assert (code, status) == ("ResourceLimitExceeded", 400)
    assert "quota of 2" in message
    # Another team's quota is its own.
    for name in ("one", "two", "three"):
        sm_other.create_hyper_parameter_tuning_job(**random_request(name, 2, 1))
    # A stopped job frees its slot.
    sm.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="one")
    sm.create_hyper_parameter_tuning_job(**random_request("three", 2, 1))


def test_max_parallel_quota_defaults_to_the_setting_and_is_raised_per_team(
    server: LiveServer, admin: Context
) -> None:
    default = new_team(admin)
    raised = new_team(admin, max_parallel_training_jobs=100)
    sm_default, sm_raised = boto3_for(server.url, default), boto3_for(server.url, raised)
    assert server.settings.max_parallel_training_jobs == 10
    sm_default.create_hyper_parameter_tuning_job(**random_request("ten", 20, 10))
    with pytest.raises(sm_default.exceptions.ResourceLimitExceeded) as caught:
        sm_default.create_hyper_parameter_tuning_job(**random_request("eleven", 20, 11))
    assert "quota of 10 parallel training jobs" in aws_error(caught.value)[1]
    sm_raised.create_hyper_parameter_tuning_job(**random_request("hundred", 200, 100))

    update_team(admin, raised.account_id, max_parallel_training_jobs=5)
    with pytest.raises(sm_raised.exceptions.ResourceLimitExceeded):
        sm_raised.create_hyper_parameter_tuning_job(**random_request("six", 20, 6))
    update_team(admin, raised.account_id, max_parallel_training_jobs=0)  # back to the default
    sm_raised.create_hyper_parameter_tuning_job(**random_request("six", 20, 6))


@pytest.mark.parametrize("value", [101, -1])
def test_max_parallel_quota_is_at_most_100(admin: Context, value: int) -> None:
    with pytest.raises(ValidationError, match="between 1 and 100"):
        new_team(admin, max_parallel_training_jobs=value)


def test_concurrent_creates_never_overshoot_the_quota(server: LiveServer, admin: Context) -> None:
    """Eight creates at once against a quota of three: the team's row lock orders them."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError

    team = new_team(admin, max_concurrent_tuning_jobs=3)

    def create(index: int) -> str:
        sm = boto3_for(server.url, team)
        try:
            sm.create_hyper_parameter_tuning_job(**random_request(f"race-{index}", 2, 1))
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "created"

    with ThreadPoolExecutor(8) as pool:
        outcomes = sorted(pool.map(create, range(8)))
    assert outcomes == ["ResourceLimitExceeded"] * 5 + ["created"] * 3
