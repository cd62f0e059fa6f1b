"""ListTags for tuning and training jobs.

Not one of AMT's nine operations, but the SageMaker SDK's ``Estimator.attach`` (and so
``tuner.best_estimator()``) calls it on a training job. As in AMT, a tuning job's tags are
its training jobs' tags too.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from amtune.app.context import Caller, Context
from amtune.app.errors import ValidationError
from amtune.app.validation.shapes import printable, raise_if_any, violation
from amtune.app.validation.text import check_text_safety, has_control_characters
from amtune.store import repository

ARN_PREFIX = "arn:aws:sagemaker:"
ARN_CONSTRAINT = "Member must be the ARN of a SageMaker resource, without control characters"


def _is_arn(text: str) -> bool:
    return not has_control_characters(text) and text.startswith(ARN_PREFIX) and text.count(":") >= 5


def list_tags(ctx: Context, caller: Caller, request: dict[str, Any]) -> dict[str, Any]:
    check_text_safety(request)
    arn = request.get("ResourceArn")
    if not isinstance(arn, str) or not _is_arn(arn):
        raise_if_any([violation(arn, "resourceArn", ARN_CONSTRAINT)])
        raise AssertionError("unreachable")
    missing = ValidationError(f"Requested resource not found: could not find {printable(arn)}.")
    account, resource = arn.split(":")[4], arn.split(":", 5)[5]
    kind, _, name = resource.partition("/")
    if account != caller.account_id or kind not in ("hyper-parameter-tuning-job", "training-job"):
        raise missing

    def work(session: Session) -> list[dict[str, Any]]:
        if kind == "training-job":
            job = repository.training_job(session, caller.account_id, name)
            if job is None:
                raise missing
            tuning = (
                repository.tuning_job_by_id(session, job.tuning_job_id)
                if job.tuning_job_id is not None
                else None
            )
        else:
            tuning = repository.tuning_job(session, caller.account_id, name)
            if tuning is None:
                raise missing
        return list(tuning.request.get("Tags") or []) if tuning is not None else []

    return {"Tags": ctx.run(work, readonly=True)}
