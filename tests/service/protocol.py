"""A minimal worker-protocol client for tests: plain HTTP, no SDK in between."""

from __future__ import annotations

from typing import Any

import httpx


class RestWorker:
    """Remembers the LeaseToken of each job it claimed and sends it with every call on it."""

    def __init__(self, base_url: str, worker_id: str = "test-worker") -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.worker_id = worker_id
        self.tokens: dict[str, str] = {}

    def leased(self, job: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with the lease token of ``job`` (a made-up one for a job this worker never
        claimed)."""
        return {"LeaseToken": self.tokens.get(job, "never-claimed"), **body}

    def claim(self, tuning_job: str) -> httpx.Response:
        response = self.http.post(
            f"/v1/tuning-jobs/{tuning_job}/claims", json={"WorkerId": self.worker_id}
        )
        if response.status_code == 200:
            job = response.json()
            self.tokens[job["TrainingJobName"]] = job["LeaseToken"]
        return response

    def claim_job(self, tuning_job: str) -> dict[str, Any]:
        response = self.claim(tuning_job)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def metrics(self, job: str, name: str, value: float, step: int | None = None) -> httpx.Response:
        metric: dict[str, Any] = {"MetricName": name, "Value": value}
        if step is not None:
            metric["Step"] = step
        body = self.leased(job, {"Metrics": [metric]})
        return self.http.post(f"/v1/training-jobs/{job}/metrics", json=body)

    def heartbeat(self, job: str) -> httpx.Response:
        return self.http.post(f"/v1/training-jobs/{job}/heartbeat", json=self.leased(job, {}))

    def complete(self, job: str, final: list[dict[str, Any]] | None = None) -> httpx.Response:
        body = {"FinalMetricDataList": final} if final is not None else {}
        return self.http.post(f"/v1/training-jobs/{job}/complete", json=self.leased(job, body))

    def fail(self, job: str, reason: str = "boom", retryable: bool = False) -> httpx.Response:
        body = self.leased(job, {"FailureReason": reason, "Retryable": retryable})
        return self.http.post(f"/v1/training-jobs/{job}/fail", json=body)

    def run_one(self, tuning_job: str, metric: str, value: float) -> str:
        job = self.claim_job(tuning_job)
        name: str = job["TrainingJobName"]
        assert self.metrics(name, metric, value).status_code == 200
        assert self.complete(name).status_code == 200
        return name
