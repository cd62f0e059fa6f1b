"""Create a tuning job with plain boto3, wait for it, and print the leaderboard.

    python examples/boto3_tune.py --endpoint http://127.0.0.1:8000 --name digits-svc
    amtune worker --endpoint http://127.0.0.1:8000 --tuning-job digits-svc \\
        -- python examples/sagemaker_style/train.py

Nothing here knows about amtune: point ``endpoint_url`` at SageMaker and it is the same program.
``--no-create`` only prints (and with ``--wait``, waits for) an existing job.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).parent))
from tuning_job import OBJECTIVE, request


def leaderboard(sm, name: str, top: int = 10) -> None:
    described = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    print(f"{name}: {described['HyperParameterTuningJobStatus']}")
    print(f"  training jobs: {described['TrainingJobStatusCounters']}")
    pages = sm.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job").paginate(
        HyperParameterTuningJobName=name, SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )
    rows = [row for page in pages for row in page["TrainingJobSummaries"]]
    print(f"  {'rank':>4}  {'training job':<40} {OBJECTIVE:>20}  hyperparameters")
    for rank, row in enumerate(rows[:top], start=1):
        value = row["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        hps = ", ".join(f"{k}={v}" for k, v in sorted(row["TunedHyperParameters"].items()))
        print(f"  {rank:>4}  {row['TrainingJobName']:<40} {value:>20.4f}  {hps}")
    best = described.get("BestTrainingJob")
    if best:
        print(f"best: {best['TrainingJobName']} {best['TunedHyperParameters']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:8000")
    parser.add_argument("--name", default="digits-svc")
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--parallel", type=int, default=3)
    parser.add_argument("--no-create", action="store_true")
    parser.add_argument("--wait", action="store_true", help="poll Describe until the job ends")
    args = parser.parse_args()

    # A team's key from the usual variables once the service has teams; while it runs open
    # (no team yet) any key is accepted.
    sm = boto3.client(
        "sagemaker",
        endpoint_url=args.endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "not-checked-yet"),
    )
    if not args.no_create:
        arn = sm.create_hyper_parameter_tuning_job(
            **request(args.name, max_jobs=args.jobs, max_parallel=args.parallel)
        )["HyperParameterTuningJobArn"]
        print(f"created {arn}")
    while args.wait:
        status = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=args.name)[
            "HyperParameterTuningJobStatus"
        ]
        if status not in ("InProgress", "Stopping"):
            break
        time.sleep(5)
    leaderboard(sm, args.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
