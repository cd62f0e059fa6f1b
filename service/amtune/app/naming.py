"""ARNs and generated names, in one place so every face prints the same ones."""

from __future__ import annotations

import secrets


def tuning_job_arn(region: str, account_id: str, name: str) -> str:
    # AWS lower-cases resource names inside ARNs.
    return f"arn:aws:sagemaker:{region}:{account_id}:hyper-parameter-tuning-job/{name.lower()}"


def training_job_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account_id}:training-job/{name.lower()}"


def training_job_name(tuning_job_name: str, seq: int) -> str:
    """``<tuning-job>-NNN-<8 hex>``, as AMT names the jobs it launches (at most 45 chars)."""
    return f"{tuning_job_name}-{seq:03d}-{secrets.token_hex(4)}"
