"""Serialization failures and deadlocks are retried inside the service; clients never see them.

A worker must never see a serialization failure or a deadlock that the service could have
retried itself. Here PostgreSQL itself raises them: a trigger fails one in ten row writes of
the worker path with SQLSTATE 40001 or 40P01, exactly as a real conflict would
arrive (through psycopg, mid-transaction). 300 concurrent metric reports must all be answered
200, each stored exactly once (a retried transaction is rolled back first, never doubled).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, text

from amtune.settings import Settings
from tests.conftest import LiveServer, new_account_id
from tests.reliability.support import create_tuning_job, describe_tuning_job

pytestmark = pytest.mark.slow
REPORTS = 300

INJECTOR = """
CREATE SEQUENCE injected_40001;
CREATE SEQUENCE injected_40p01;
CREATE FUNCTION inject_conflict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF random() < 0.1 THEN
    IF random() < 0.5 THEN
      PERFORM nextval('injected_40001');
      RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001';
    ELSE
      PERFORM nextval('injected_40p01');
      RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01';
    END IF;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER inject_metrics BEFORE INSERT ON metrics
  FOR EACH ROW EXECUTE FUNCTION inject_conflict();
CREATE TRIGGER inject_training_jobs BEFORE UPDATE ON training_jobs
  FOR EACH ROW EXECUTE FUNCTION inject_conflict();
"""


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def injected(url: str) -> tuple[int, int]:
    """How many of each were raised (sequences survive the rollbacks they caused)."""
    with psycopg.connect(plain(url)) as conn:
        counts = []
        for sequence in ("injected_40001", "injected_40p01"):
            row = conn.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone()
            assert row is not None
            counts.append(row[0] if row[1] else 0)
        return counts[0], counts[1]


def test_injected_conflicts_never_reach_clients(postgres_url: str) -> None:
    account = new_account_id()
    settings = Settings(database_url=postgres_url, account_id=account, lease_seconds=60)
    with LiveServer(settings) as live, httpx.Client(base_url=live.url, timeout=60) as http:
        create_tuning_job(live.url, "contended", max_jobs=4, max_parallel=4)
        jobs, tokens = [], []
        for worker in range(4):
            claim = http.post("/v1/tuning-jobs/contended/claims", json={"WorkerId": f"w{worker}"})
            assert claim.status_code == 200
            jobs.append(claim.json()["TrainingJobName"])
            tokens.append(claim.json()["LeaseToken"])
        with psycopg.connect(plain(postgres_url), autocommit=True) as conn:
            conn.execute(INJECTOR)

        def report(index: int) -> int:
            job, token = jobs[index % len(jobs)], tokens[index % len(jobs)]
            # Reports of one job race each other here, so they share a step (a metric's steps
            # must not go back); each report is told apart by its value.
            metric = {"MetricName": "loss", "Value": float(index), "Step": 0}
            body = {"LeaseToken": token, "Metrics": [metric]}
            answer = http.post(f"/v1/training-jobs/{job}/metrics", json=body)
            return answer.status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(report, range(REPORTS)))
        completions = [
            http.post(f"/v1/training-jobs/{job}/complete", json={"LeaseToken": token})
            for job, token in zip(jobs, tokens, strict=True)
        ]

        assert statuses == [200] * REPORTS
        assert [c.status_code for c in completions] == [200] * len(jobs)
        serialization, deadlocks = injected(postgres_url)
        assert serialization > 0 and deadlocks > 0, "nothing was injected: the test proved nothing"

        engine = create_engine(postgres_url)
        try:
            with engine.connect() as connection:
                values = connection.execute(
                    text(
                        "SELECT m.value FROM metrics m JOIN training_jobs t"
                        " ON t.id = m.training_job_id WHERE t.account_id = :a ORDER BY m.value"
                    ),
                    {"a": account},
                ).scalars()
                # Each once: none lost, none doubled.
                assert list(values) == [float(i) for i in range(REPORTS)]
        finally:
            engine.dispose()
        described = describe_tuning_job(live.url, "contended")
        assert described["HyperParameterTuningJobStatus"] == "Completed"
        assert described["TrainingJobStatusCounters"]["Completed"] == len(jobs)
