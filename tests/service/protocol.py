"""A minimal worker-protocol client for tests: plain HTTP, no SDK in between."""

from __future__ import annotations

from typing import Any

import httpx


class RestWorker:
    def __init__(self, base_url: str, worker_id: str = "test-worker") -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        self.worker_id = worker_id

    def claim(self, tuning_job: str) -> httpx.Response:
        return self.http.post(
            f"/v1/tuning-jobs/{tuning_job}/claims", json={"WorkerId": self.worker_id}
        )

    def claim_job(self, tuning_job: str) -> dict[str, Any]:
        response = self.claim(tuning_job)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        return job

    def metrics(self, job: str, name: str, value: float, step: int | None = None) -> httpx.Response:
        metric: dict[str, Any] = {"MetricName": name, "Value": value}
        if step is not None:
            metric["Step"] = step
        return self.http.post(f"/v1/training-jobs/{job}/metrics", json={"Metrics": [metric]})

    def heartbeat(self, job: str) -> httpx.Response:
        return self.http.post(f"/v1/training-jobs/{job}/heartbeat", json={})

    def complete(self, job: str, final: list[dict[str, Any]] | None = None) -> httpx.Response:
        body = {"FinalMetricDataList": final} if final is not None else {}
        return self.http.post(f"/v1/training-jobs/{job}/complete", json=body)

    def fail(self, job: str, reason: str = "boom", retryable: bool = False) -> httpx.Response:
        return self.http.post(
            f"/v1/training-jobs/{job}/fail", json={"FailureReason": reason, "Retryable": retryable}
        )

    def run_one(self, tuning_job: str, metric: str, value: float) -> str:
        job = self.claim_job(tuning_job)
        name: str = job["TrainingJobName"]
        assert self.metrics(name, metric, value).status_code == 200
        assert self.complete(name).status_code == 200
        return name
