"""Scrape-time metrics read from the database: jobs by status over the whole service.

A gauge kept in memory would be wrong as soon as a second replica moves a job, so the counts
are read from the database when Prometheus scrapes: two grouped counts, one round trip each.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from amtune.app.context import Context
from amtune.store import stats


class JobCounts(Collector):
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        training, tuning = self.ctx.run(
            lambda s: (stats.training_jobs_by_status(s), stats.tuning_jobs_by_status(s)),
            readonly=True,
        )
        by_training = GaugeMetricFamily(
            "amtune_training_jobs", "Training jobs by status, in the database.", labels=["status"]
        )
        for status, count in sorted(training.items()):
            by_training.add_metric([status], count)
        yield by_training
        by_tuning = GaugeMetricFamily(
            "amtune_tuning_jobs", "Tuning jobs by status, in the database.", labels=["status"]
        )
        for status, count in sorted(tuning.items()):
            by_tuning.add_metric([status], count)
        yield by_tuning
