"""``NameContains`` filters both List operations the same way, as AWS does: a case-insensitive
substring of the name, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from amtune.app.claims import Claim
from amtune.app.service import Tuner
from tests.app.requests import sdk_style_request


def make(tuner: Tuner, name: str) -> str:
    """A tuning job and one training job claimed from it; the training job's name."""
    request = sdk_style_request()
    request["HyperParameterTuningJobName"] = name
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Random"
    caller = tuner.default_caller()
    tuner.create_tuning_job(caller, request)
    claimed = tuner.claim(caller, name, "w")
    assert isinstance(claimed, Claim)
    return claimed.training_job_name


def tuning_names(tuner: Tuner, contains: str) -> list[str]:
    listed = tuner.list_tuning_jobs(tuner.default_caller(), {"NameContains": contains})
    return sorted(
        s["HyperParameterTuningJobName"] for s in listed["HyperParameterTuningJobSummaries"]
    )


def training_names(tuner: Tuner, contains: str) -> list[str]:
    listed = tuner.list_training_jobs(tuner.default_caller(), {"NameContains": contains})
    return sorted(s["TrainingJobName"] for s in listed["TrainingJobSummaries"])


@pytest.mark.parametrize("contains", ["XGB-Night", "xgb-night", "XGB-NIGHT", "gb-nig"])
def test_name_contains_ignores_case_for_both_lists(tuner: Tuner, contains: str) -> None:
    night = make(tuner, "XGB-Nightly")
    make(tuner, "mlp-daily")
    assert tuning_names(tuner, contains) == ["XGB-Nightly"]
    assert training_names(tuner, contains) == [night]
