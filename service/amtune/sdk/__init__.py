"""amtune as a Python library: a boto3-style client and the worker API.

``client(endpoint_url=...)`` mirrors ``boto3.client("sagemaker", endpoint_url=...)`` for the nine
tuning operations; ``Worker`` runs training code written in Python against a tuning job. Both
need only httpx; neither imports anything of the service.
"""

from __future__ import annotations

from typing import Any

from amtune.sdk.client import OPERATIONS, SageMakerClient
from amtune.sdk.errors import (
    ClientError,
    EndpointConnectionError,
    LeaseLost,
    NotFound,
    PaginationError,
    TuningJobEnded,
    WorkerProtocolError,
)
from amtune.sdk.hyperparameters import HyperParameterValue
from amtune.sdk.protocol import Claim, Metric, Wait, WorkerProtocol
from amtune.sdk.sigv4 import SigV4Auth
from amtune.sdk.transport import RetryPolicy
from amtune.sdk.worker import Job, Worker


def client(endpoint_url: str, **kwargs: Any) -> SageMakerClient:
    """A SageMaker-like client for the amtune service at ``endpoint_url``.

    Keyword arguments: ``region_name``, ``aws_access_key_id``, ``aws_secret_access_key``,
    ``aws_session_token`` (as in boto3: with a key id and secret every request is SigV4-signed),
    ``auth`` (any ``httpx.Auth``, replacing SigV4: the request-signing hook), ``timeout``
    (seconds), ``max_attempts`` (3, like boto3's standard retry mode), ``headers``,
    ``transport`` (an ``httpx.BaseTransport``, e.g. for tests).
    """
    return SageMakerClient(endpoint_url, **kwargs)


__all__ = [
    "OPERATIONS",
    "Claim",
    "ClientError",
    "EndpointConnectionError",
    "HyperParameterValue",
    "Job",
    "LeaseLost",
    "Metric",
    "NotFound",
    "PaginationError",
    "RetryPolicy",
    "SageMakerClient",
    "SigV4Auth",
    "TuningJobEnded",
    "Wait",
    "Worker",
    "WorkerProtocol",
    "WorkerProtocolError",
    "client",
]
