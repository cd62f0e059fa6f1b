"""The worker's progress: the status line's figures, and how it shows on a terminal and in a log."""

from __future__ import annotations

import io
from typing import Any

from amtune.worker.progress import CLEAR_LINE, Progress
from amtune.worker.status import format_duration, status_line

CREATED = 1_000_000.0


def described(**counters: int) -> dict[str, Any]:
    base = {"Completed": 0, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0}
    return {
        "HyperParameterTuningJobName": "tj",
        "HyperParameterTuningJobStatus": "InProgress",
        "CreationTime": CREATED,
        "HyperParameterTuningJobConfig": {"ResourceLimits": {"MaxNumberOfTrainingJobs": 20}},
        "TrainingJobStatusCounters": {**base, "Stopped": 0, **counters},
    }


def test_the_line_counts_done_running_failed_best_and_time_left() -> None:
    answer = described(Completed=6, NonRetryableError=1, RetryableError=1, InProgress=2)
    answer["BestTrainingJob"] = {
        "TrainingJobName": "tj-005-abc",
        "FinalHyperParameterTuningJobObjectiveMetric": {"Value": 0.931234567},
    }

    # 8 ended in 400 s: 50 s each, 12 to go.
    line = status_line(answer, CREATED + 400)

    assert line == "tj: 8/20 done, 2 running, 2 failed | best 0.9312 (tj-005-abc) | ~10m00s left"


def test_before_any_job_ends_the_time_left_is_unknown_and_there_is_no_best() -> None:
    line = status_line(described(InProgress=3), CREATED + 5)

    assert line == "tj: 0/20 done, 3 running, 0 failed | best - | time left unknown"


def test_an_ended_tuning_job_says_so_instead_of_a_time() -> None:
    answer = described(Completed=20)
    answer["HyperParameterTuningJobStatus"] = "Completed"

    assert status_line(answer, CREATED + 99).endswith("| Completed")


def test_durations_round_to_a_readable_unit() -> None:
    assert [format_duration(s) for s in (0.4, 59, 61, 3599, 3600, 7322)] == [
        "0s", "59s", "1m01s", "59m59s", "1h00m", "2h02m",
    ]  # fmt: skip


def test_on_a_terminal_the_status_is_one_line_redrawn_under_the_job_lines() -> None:
    out = io.StringIO()
    progress = Progress(out, live=True)

    progress.status("tj: 0/2 done", event=False)
    progress.line("tj-001 started")
    progress.status("tj: 1/2 done", event=True)
    progress.close()

    assert out.getvalue() == (
        f"{CLEAR_LINE}tj: 0/2 done"
        f"{CLEAR_LINE}[amtune] tj-001 started\ntj: 0/2 done"
        f"{CLEAR_LINE}tj: 1/2 done\n"
    )


def test_in_a_log_the_status_is_a_plain_line_per_ended_job() -> None:
    out = io.StringIO()
    progress = Progress(out)  # a StringIO is no terminal

    progress.status("tj: 0/2 done", event=False)
    progress.line("tj-001 started")
    progress.status("tj: 1/2 done", event=True)
    progress.close()

    assert out.getvalue() == "[amtune] tj-001 started\n[amtune] progress: tj: 1/2 done\n"
