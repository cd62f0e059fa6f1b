"""A boto3-style SageMaker client for the nine tuning operations, over the AWS JSON face.

Why the AWS JSON face (``POST /`` with ``X-Amz-Target``) rather than the REST resources: it is
the exact wire boto3 speaks, so requests, answers and errors are the same bytes for both clients
and code moves between them unchanged. The client does no validation of its own; the service is
the one place the rules live.

Everything a caller touches mirrors boto3: ``client.create_hyper_parameter_tuning_job(**kwargs)``
with PascalCase keyword arguments only, PascalCase dict results with ``ResponseMetadata`` and
timezone-aware datetimes, :class:`~amtune.sdk.errors.ClientError` (``client.exceptions.X`` for the
modeled codes), and ``get_paginator`` for the three List operations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from amtune.sdk.errors import ClientError, ClientExceptions, error_class_for
from amtune.sdk.paginate import PAGINATED, Paginator
from amtune.sdk.shapes import parse_response, serialize_request
from amtune.sdk.sigv4 import SigV4Auth
from amtune.sdk.transport import DEFAULT_RETRY, HttpTransport, RetryPolicy

TARGET_PREFIX = "SageMaker"
CONTENT_TYPE = "application/x-amz-json-1.1"

#: snake_case method -> AWS operation name.
OPERATIONS: dict[str, str] = {
    "create_hyper_parameter_tuning_job": "CreateHyperParameterTuningJob",
    "describe_hyper_parameter_tuning_job": "DescribeHyperParameterTuningJob",
    "list_hyper_parameter_tuning_jobs": "ListHyperParameterTuningJobs",
    "stop_hyper_parameter_tuning_job": "StopHyperParameterTuningJob",
    "delete_hyper_parameter_tuning_job": "DeleteHyperParameterTuningJob",
    "list_training_jobs_for_hyper_parameter_tuning_job": (
        "ListTrainingJobsForHyperParameterTuningJob"
    ),
    "describe_training_job": "DescribeTrainingJob",
    "list_training_jobs": "ListTrainingJobs",
    "stop_training_job": "StopTrainingJob",
}


@dataclass(frozen=True)
class ClientMeta:
    """``client.meta``: the two members code commonly reads from a boto3 client."""

    region_name: str
    endpoint_url: str


class SageMakerClient:
    """What ``amtune.client(endpoint_url=...)`` returns; see the module docstring."""

    def __init__(
        self,
        endpoint_url: str,
        *,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        auth: httpx.Auth | None = None,
        timeout: float = 60.0,
        max_attempts: int = 3,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.region_name = region_name or "us-east-1"
        if auth is None and aws_access_key_id and aws_secret_access_key:
            # Sign as boto3 does; any other scheme can be passed as `auth` (the hook).
            auth = SigV4Auth(
                aws_access_key_id,
                aws_secret_access_key,
                region=self.region_name,
                session_token=aws_session_token,
            )
        self.exceptions = ClientExceptions()
        self.meta = ClientMeta(self.region_name, endpoint_url.rstrip("/"))
        self._retry = RetryPolicy(
            max_attempts=max_attempts,
            base_delay=DEFAULT_RETRY.base_delay,
            max_delay=DEFAULT_RETRY.max_delay,
        )
        self._http = HttpTransport(
            endpoint_url, auth=auth, timeout=timeout, headers=headers, transport=transport
        )

    @property
    def endpoint_url(self) -> str:
        return self._http.endpoint_url

    # -- the nine operations ------------------------------------------------------------------

    def create_hyper_parameter_tuning_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("CreateHyperParameterTuningJob", kwargs)

    def describe_hyper_parameter_tuning_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("DescribeHyperParameterTuningJob", kwargs)

    def list_hyper_parameter_tuning_jobs(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ListHyperParameterTuningJobs", kwargs)

    def stop_hyper_parameter_tuning_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("StopHyperParameterTuningJob", kwargs)

    def delete_hyper_parameter_tuning_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("DeleteHyperParameterTuningJob", kwargs)

    def list_training_jobs_for_hyper_parameter_tuning_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ListTrainingJobsForHyperParameterTuningJob", kwargs)

    def describe_training_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("DescribeTrainingJob", kwargs)

    def list_training_jobs(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("ListTrainingJobs", kwargs)

    def stop_training_job(self, **kwargs: Any) -> dict[str, Any]:
        return self._call("StopTrainingJob", kwargs)

    # -- boto3 client conveniences ------------------------------------------------------------

    def can_paginate(self, operation_name: str) -> bool:
        return operation_name in PAGINATED

    def get_paginator(self, operation_name: str) -> Paginator:
        if operation_name not in PAGINATED:
            raise ValueError(f"Operation cannot be paginated: {operation_name}")
        method: Callable[..., dict[str, Any]] = getattr(self, operation_name)
        return Paginator(method, PAGINATED[operation_name])

    # -- beyond the nine: amtune's own reads (REST face, same auth and errors) ----------------

    def list_training_job_metrics(self, **kwargs: Any) -> dict[str, Any]:
        """Every metric point a training job reported, oldest first, paged.

        ``TrainingJobName`` (required), ``MetricName`` (only that metric), ``MaxResults``
        (1-1000, default 100), ``NextToken``. Returns ``{"Metrics": [{MetricName, Value,
        Timestamp (datetime), Step?}], "NextToken"?}``: ``GET /v1/training-jobs/{name}/metrics``.
        """
        params = dict(kwargs)
        name = params.pop("TrainingJobName", None)
        if not isinstance(name, str):
            raise TypeError("list_training_job_metrics() needs TrainingJobName=<str>")
        query = urlencode({k: v for k, v in params.items() if v is not None})
        path = f"/v1/training-jobs/{quote(name, safe='')}/metrics" + (f"?{query}" if query else "")
        return self._send("GET", path, b"", {}, "ListTrainingJobMetrics")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SageMakerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- wire ---------------------------------------------------------------------------------

    def _call(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        body = json.dumps(serialize_request(params)).encode()
        headers = {"X-Amz-Target": f"{TARGET_PREFIX}.{operation}", "Content-Type": CONTENT_TYPE}
        return self._send("POST", "/", body, headers, operation)

    def _send(
        self, method: str, path: str, body: bytes, headers: Mapping[str, str], operation: str
    ) -> dict[str, Any]:
        result = self._http.request(method, path, content=body, headers=headers, retry=self._retry)
        response = result.response
        metadata = {
            "RequestId": response.headers.get("x-amzn-RequestId", ""),
            "HTTPStatusCode": response.status_code,
            "HTTPHeaders": {k.lower(): v for k, v in response.headers.items()},
            "RetryAttempts": result.retries,
        }
        if response.status_code >= 300:
            raise _error_from(response, operation, metadata)
        parsed: dict[str, Any] = {}
        if response.content.strip():
            decoded = json.loads(response.content)
            if isinstance(decoded, dict):
                parsed = parse_response(decoded)
        parsed["ResponseMetadata"] = metadata
        return parsed


def parse_error_body(response: httpx.Response) -> tuple[str, str]:
    """(code, message) the way botocore's JSON parser reads them.

    Code is ``__type`` with any ``prefix#`` removed and any ``:suffix`` dropped; message is
    ``message`` or ``Message``. Without a JSON body the code is the status and the message the
    reason phrase (botocore ignores ``x-amzn-ErrorType``; we use it only when the body is silent).
    """
    body: Any = None
    if response.content.strip():
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    code = ""
    message = ""
    if isinstance(body, dict):
        code = str(body.get("__type") or body.get("code") or "")
        message = str(body.get("message") or body.get("Message") or "")
    if not code:
        code = response.headers.get("x-amzn-ErrorType", "") or str(response.status_code)
    code = code.rsplit("#", 1)[-1].split(":", 1)[0]
    if not message and not isinstance(body, dict):
        message = response.reason_phrase
    return code, message


def _error_from(response: httpx.Response, operation: str, metadata: dict[str, Any]) -> ClientError:
    code, message = parse_error_body(response)
    error_response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": metadata,
    }
    cls = error_class_for(code)
    if cls is not ClientError:
        error_response["Message"] = message  # modeled members are copied to the top level
    return cls(error_response, operation)
