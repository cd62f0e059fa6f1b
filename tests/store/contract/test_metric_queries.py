"""Contract of the metric queries (``store/repository.py``, ``store/metric_series.py``), on
SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from amtune.store import metric_series, repository
from amtune.store.models import MetricRow
from tests.conftest import new_account_id
from tests.store.contract.support import NOW, Store, covers


def stored(store: Store, job_id: int) -> list[tuple[str, float, float, int | None]]:
    query = (
        select(MetricRow.metric_name, MetricRow.value, MetricRow.timestamp, MetricRow.step)
        .where(MetricRow.training_job_id == job_id)
        .order_by(MetricRow.id)
    )
    rows = store.read(lambda s: s.execute(query).all())
    return [(name, value, timestamp, step) for name, value, timestamp, step in rows]


@covers("repository.add_metrics", "repository.metric_row")
def test_add_metrics_stores_the_rows_metric_row_builds_in_order(store: Store) -> None:
    job = store.training(store.tuning(), 1)
    points = [("loss", 0.5, NOW, 1), ("acc", 0.9, NOW + 1, None), ("loss", 0.25, NOW + 2, 2)]

    def add(session: Session) -> None:
        repository.add_metrics(session, [repository.metric_row(job.id, *p) for p in points])
        repository.add_metrics(session, [])  # nothing to add is allowed and adds nothing

    store.write(add)
    assert stored(store, job.id) == points


@covers("repository.last_metric_values")
def test_last_metric_values_are_each_metrics_latest_report(store: Store) -> None:
    tuning = store.tuning()
    job, other = store.training(tuning, 1), store.training(tuning, 2)
    # The latest report wins, whatever its timestamp says.
    store.points(job, [("loss", 3.0, NOW + 5, 1), ("acc", 0.1, NOW, None), ("loss", 2.0, NOW, 2)])
    store.points(other, [("loss", 9.0, NOW + 9, 9)])

    assert store.read(lambda s: repository.last_metric_values(s, job.id)) == {
        "loss": (2.0, NOW),
        "acc": (0.1, NOW),
    }
    empty = store.training(tuning, 3)
    assert store.read(lambda s: repository.last_metric_values(s, empty.id)) == {}


@covers("repository.last_steps", "repository.last_step_of")
def test_last_steps_are_each_named_metrics_latest_stepped_point(store: Store) -> None:
    tuning = store.tuning()
    job, other = store.training(tuning, 1), store.training(tuning, 2)
    store.points(job, [("loss", 1.0, NOW, 1), ("loss", 1.0, NOW, 4), ("loss", 1.0, NOW, None)])
    store.points(job, [("acc", 1.0, NOW, None)])
    store.points(other, [("loss", 1.0, NOW, 7), ("acc", 1.0, NOW, 7)])

    names = ["loss", "acc", "absent", "loss"]
    assert store.read(lambda s: repository.last_steps(s, job.id, names)) == {"loss": 4}
    assert store.read(lambda s: repository.last_steps(s, job.id, [])) == {}

    def last_step(name: str) -> object:
        return store.read(lambda s: s.scalar(select(repository.last_step_of(job.id, name))))

    assert last_step("loss") == 4
    assert last_step("acc") is None


@covers("repository.objective_curves")
def test_objective_curves_are_the_stepped_objective_points_by_job_number(store: Store) -> None:
    tuning = store.tuning(objective_metric="loss")
    second = store.training(tuning, 2, definition_name="b")
    first = store.training(tuning, 1, definition_name="a")
    quiet = store.training(tuning, 3)  # reports only unstepped or other metrics
    store.points(second, [("loss", 0.9, NOW, 1), ("acc", 0.1, NOW, 1), ("loss", 0.8, NOW, 3)])
    store.points(first, [("loss", 0.7, NOW, 2), ("loss", 0.6, NOW, None)])
    store.points(quiet, [("loss", 0.5, NOW, None), ("acc", 0.5, NOW, 1)])
    elsewhere = store.training(store.tuning(), 1)
    store.points(elsewhere, [("loss", 0.1, NOW, 1)])

    curves = store.read(lambda s: repository.objective_curves(s, tuning.id))
    assert curves == {1: ("a", [(2.0, 0.7)]), 2: ("b", [(1.0, 0.9), (3.0, 0.8)])}
    assert list(curves) == [1, 2]


@covers("repository.delete_metrics")
def test_delete_metrics_forgets_one_jobs_points_only(store: Store) -> None:
    tuning = store.tuning()
    job, other = store.training(tuning, 1), store.training(tuning, 2)
    store.points(job, [("loss", 1.0, NOW, 1), ("acc", 1.0, NOW, None)])
    store.points(other, [("loss", 2.0, NOW, 1)])

    store.write(lambda s: repository.delete_metrics(s, job.id))
    assert stored(store, job.id) == []
    assert stored(store, other.id) == [("loss", 2.0, NOW, 1)]


@covers("metric_series.values_between")
def test_values_between_is_one_metric_of_one_teams_job_in_a_half_open_window(
    store: Store,
) -> None:
    tuning = store.tuning()
    job = store.training(tuning, 1)
    store.points(
        job,
        [
            ("loss", 5.0, NOW + 5, None),
            ("loss", 1.0, NOW, None),  # at the start: in
            ("loss", 2.0, NOW + 5, None),  # same time as an earlier point: after it
            ("acc", 9.0, NOW + 1, None),
            ("loss", 7.0, NOW + 10, None),  # at the end: out
            ("loss", 0.0, NOW - 1, None),
        ],
    )
    intruder = store.training(store.tuning(account=new_account_id()), 1, name=job.name)
    store.points(intruder, [("loss", 99.0, NOW + 1, None)])

    def values(account: str, metric: str = "loss") -> object:
        return store.read(
            lambda s: metric_series.values_between(s, account, job.name, metric, NOW, NOW + 10)
        )

    assert values(store.account) == [(NOW, 1.0), (NOW + 5, 5.0), (NOW + 5, 2.0)]
    assert values(store.account, "absent") == []
    assert values(new_account_id()) == []
