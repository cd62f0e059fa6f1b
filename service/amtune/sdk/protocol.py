"""The REST worker protocol (``/v1``): claim (one tuning job, or any of the team's),
heartbeat, metrics, complete, fail, release.

One thin method per endpoint of the contract in issue 2. Answers are turned into small typed
values; the 409s that a worker must react to become distinct exceptions (:class:`TuningJobEnded`
on claim, :class:`LeaseLost` on everything about a training job). Retrying is the caller's
choice per call, because a claim loop, a heartbeat and a finished job's completion need
different patience.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from amtune.sdk.client import parse_error_body
from amtune.sdk.errors import (
    LeaseLost,
    NotFound,
    TuningJobEnded,
    WorkerProtocolError,
)
from amtune.sdk.shapes import from_epoch
from amtune.sdk.transport import DEFAULT_RETRY, HttpTransport, RetryPolicy

JSON = "application/json"


@dataclass(frozen=True)
class Claim:
    """A training job handed to this worker, with everything needed to run it."""

    training_job_name: str
    training_job_arn: str
    hyperparameters: dict[str, str]
    lease_expires_at: dt.datetime | None
    heartbeat_interval_seconds: float
    #: Who claimed it (informational).
    worker_id: str | None = None
    #: Proof of holding the job, sent with every later call on it: once the lease lapsed and
    #: the job went to another worker, calls with this token answer 409.
    lease_token: str = ""
    #: The tuning job it belongs to (a pool claim says which; a single-job claim is for the one
    #: named in the request).
    tuning_job_name: str | None = None


@dataclass(frozen=True)
class Wait:
    """204: nothing can start now; ask again after ``retry_after`` seconds."""

    retry_after: float


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    timestamp: dt.datetime | None = None
    step: int | None = None

    def to_wire(self) -> dict[str, Any]:
        wire: dict[str, Any] = {"MetricName": self.name, "Value": self.value}
        if self.timestamp is not None:
            wire["Timestamp"] = self.timestamp.timestamp()
        if self.step is not None:
            wire["Step"] = self.step
        return wire


def default_worker_id() -> str:
    """host-pid: unique enough to tell workers apart in the service's records."""
    return f"{socket.gethostname()}-{os.getpid()}"


class WorkerProtocol:
    """Calls the ``/v1`` worker endpoints of one service."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        auth: httpx.Auth | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = HttpTransport(endpoint_url, auth=auth, timeout=timeout, transport=transport)

    @property
    def endpoint_url(self) -> str:
        return self._http.endpoint_url

    def close(self) -> None:
        self._http.close()

    def claim(
        self,
        tuning_job_name: str,
        worker_id: str,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
        on_retry: Callable[[int, float, str], None] | None = None,
    ) -> Claim | Wait:
        path = f"/v1/tuning-jobs/{quote(tuning_job_name, safe='')}/claims"
        response = self._post(
            path, {"WorkerId": worker_id}, retry=retry, cancel=cancel, on_retry=on_retry
        )
        if response.status_code == 204:
            return Wait(_retry_after(response.headers.get("Retry-After")))
        if response.status_code != 200:
            raise _protocol_error(response, "ClaimTrainingJob", claim=True)
        return _claim_of(response.json(), worker_id, tuning_job_name)

    def claim_any(
        self,
        worker_id: str,
        images: Sequence[str] | None = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
        on_retry: Callable[[int, float, str], None] | None = None,
    ) -> Claim | Wait:
        """A training job of any tuning job of the team (``POST /v1/claims``), fairly shared;
        ``images`` keeps to tuning jobs whose TrainingImage is one of them."""
        payload: dict[str, Any] = {"WorkerId": worker_id}
        if images:
            payload["Images"] = list(images)
        response = self._post("/v1/claims", payload, retry=retry, cancel=cancel, on_retry=on_retry)
        if response.status_code == 204:
            return Wait(_retry_after(response.headers.get("Retry-After")))
        if response.status_code != 200:
            raise _protocol_error(response, "ClaimFromPool", claim=False)
        body = response.json()
        return _claim_of(body, worker_id, str(body["TuningJobName"]))

    def release(
        self,
        training_job_name: str,
        lease_token: str,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
    ) -> None:
        """Give a held training job back: it runs again, same hyperparameters, on a later
        claim, without using up the tuning job's budget or a RetryStrategy attempt."""
        self._job_call(
            "ReleaseTrainingJob",
            training_job_name,
            "release",
            _with_lease({}, lease_token),
            retry=retry,
            cancel=cancel,
        )

    def heartbeat(
        self,
        training_job_name: str,
        *,
        lease_token: str,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
    ) -> bool:
        """Extend the lease; True when the service asks the job to stop."""
        body = self._job_call(
            "Heartbeat",
            training_job_name,
            "heartbeat",
            _with_lease({}, lease_token),
            retry=retry,
            cancel=cancel,
        )
        return bool(body.get("StopRequested", False))

    def put_metrics(
        self,
        training_job_name: str,
        metrics: Sequence[Metric],
        *,
        lease_token: str,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
    ) -> bool:
        """Report metric values; True when the service asks the job to stop."""
        payload = _with_lease({"Metrics": [m.to_wire() for m in metrics]}, lease_token)
        body = self._job_call(
            "PutMetrics", training_job_name, "metrics", payload, retry=retry, cancel=cancel
        )
        return bool(body.get("StopRequested", False))

    def complete(
        self,
        training_job_name: str,
        final_metrics: Sequence[Metric] | None = None,
        *,
        lease_token: str,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
    ) -> None:
        self.send_completion(
            training_job_name, complete_body(final_metrics, lease_token), retry=retry, cancel=cancel
        )

    def fail(
        self,
        training_job_name: str,
        reason: str,
        *,
        retryable: bool = False,
        lease_token: str,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
    ) -> None:
        self.send_failure(
            training_job_name, fail_body(reason, retryable, lease_token), retry=retry, cancel=cancel
        )

    def send_completion(
        self,
        training_job_name: str,
        body: Mapping[str, Any],
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
    ) -> None:
        self._job_call(
            "CompleteTrainingJob", training_job_name, "complete", body, retry=retry, cancel=cancel
        )

    def send_failure(
        self,
        training_job_name: str,
        body: Mapping[str, Any],
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        cancel: threading.Event | None = None,
    ) -> None:
        self._job_call(
            "FailTrainingJob", training_job_name, "fail", body, retry=retry, cancel=cancel
        )

    # -- wire ---------------------------------------------------------------------------------

    def _job_call(
        self,
        operation: str,
        training_job_name: str,
        action: str,
        payload: Mapping[str, Any],
        *,
        retry: RetryPolicy,
        cancel: threading.Event | None,
    ) -> dict[str, Any]:
        path = f"/v1/training-jobs/{quote(training_job_name, safe='')}/{action}"
        response = self._post(path, payload, retry=retry, cancel=cancel)
        if response.status_code >= 300:
            raise _protocol_error(response, operation, claim=False)
        if not response.content.strip():
            return {}
        decoded = response.json()
        return decoded if isinstance(decoded, dict) else {}

    def _post(
        self,
        path: str,
        payload: Mapping[str, Any],
        *,
        retry: RetryPolicy,
        cancel: threading.Event | None,
        on_retry: Callable[[int, float, str], None] | None = None,
    ) -> httpx.Response:
        result = self._http.request(
            "POST",
            path,
            content=json.dumps(payload).encode(),
            headers={"Content-Type": JSON, "Accept": JSON},
            retry=retry,
            cancel=cancel,
            on_retry=on_retry,
        )
        return result.response


def _claim_of(body: Mapping[str, Any], worker_id: str, tuning_job_name: str) -> Claim:
    lease = body.get("LeaseExpiresAt")
    return Claim(
        training_job_name=str(body["TrainingJobName"]),
        training_job_arn=str(body.get("TrainingJobArn", "")),
        hyperparameters={str(k): str(v) for k, v in (body.get("HyperParameters") or {}).items()},
        lease_expires_at=from_epoch(lease) if lease is not None else None,
        heartbeat_interval_seconds=float(body.get("HeartbeatIntervalSeconds") or 10),
        worker_id=worker_id,
        lease_token=str(body.get("LeaseToken", "")),
        tuning_job_name=tuning_job_name,
    )


def complete_body(final_metrics: Sequence[Metric] | None, lease_token: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if final_metrics:
        body["FinalMetricDataList"] = [m.to_wire() for m in final_metrics]
    return _with_lease(body, lease_token)


def fail_body(reason: str, retryable: bool, lease_token: str) -> dict[str, Any]:
    text = reason.strip() or "The training job failed without a reason."
    return _with_lease({"FailureReason": text[:1024], "Retryable": retryable}, lease_token)


def _with_lease(body: dict[str, Any], lease_token: str) -> dict[str, Any]:
    body["LeaseToken"] = lease_token
    return body


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def _protocol_error(
    response: httpx.Response, operation: str, *, claim: bool
) -> WorkerProtocolError:
    code, message = parse_error_body(response)
    error_response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {
            "HTTPStatusCode": response.status_code,
            "HTTPHeaders": {k.lower(): v for k, v in response.headers.items()},
        },
    }
    cls: type[WorkerProtocolError] = WorkerProtocolError
    if response.status_code == 409:
        cls = TuningJobEnded if claim else LeaseLost
    elif response.status_code == 404:
        cls = NotFound
    return cls(error_response, operation)
