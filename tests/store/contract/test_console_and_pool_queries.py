"""Contract of the console's queries (``store/console.py``) and the pool claim's query
(``store/pool.py``), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from amtune.store import console, pool, repository
from amtune.store.pool import PoolCandidate
from tests.conftest import new_account_id
from tests.store.contract.support import NOW, Store, covers


@covers("console.objective_bounds")
def test_objective_bounds_span_the_ended_objectives_of_the_teams_named_jobs(
    store: Store,
) -> None:
    low = store.tuning(objective_type="Minimize")
    for seq, value in enumerate((3.0, 1.0, 2.0), 1):
        store.training(low, seq, status="Completed", objective_value=value, ended_at=NOW)
    store.training(low, 4, objective_value=-50.0)  # still running: not final
    high = store.tuning(objective_type="Maximize")
    store.training(high, 1, status="Stopped", objective_value=7.0, ended_at=NOW)
    unscored = store.tuning()
    store.training(unscored, 1, status="Failed", ended_at=NOW)
    foreign = store.tuning(low.name, account=new_account_id())
    store.training(foreign, 1, status="Completed", objective_value=-99.0, ended_at=NOW)

    names = [low.name, high.name, unscored.name, "absent"]
    assert store.read(lambda s: console.objective_bounds(s, store.account, names)) == {
        low.name: ("Minimize", 1.0, 3.0),
        high.name: ("Maximize", 7.0, 7.0),
    }
    assert store.read(lambda s: console.objective_bounds(s, store.account, [])) == {}


@covers("console.training_job_points", "console.hyperparameters_of")
def test_training_job_points_in_number_order_and_their_hyperparameters(store: Store) -> None:
    tuning = store.tuning()
    second = store.training(
        tuning,
        2,
        status="Completed",
        objective_value=0.5,
        ended_at=NOW + 9,
        started_at=NOW + 3,
        tuned_hyperparameters={"lr": "0.2"},
    )
    first = store.training(
        tuning, 1, worker_id="w", stop_requested=True, tuned_hyperparameters={"lr": "0.1"}
    )
    store.training(store.tuning(), 1)

    rows = store.read(lambda s: console.training_job_points(s, tuning.id))
    assert [tuple(row) for row in rows] == [
        (first.id, 1, first.name, "InProgress", None, NOW + 1, None, None, "w", True),
        (second.id, 2, second.name, "Completed", 0.5, NOW + 2, NOW + 3, NOW + 9, None, False),
    ]
    assert store.read(lambda s: console.hyperparameters_of(s, [second.id, first.id])) == {
        first.id: {"lr": "0.1"},
        second.id: {"lr": "0.2"},
    }
    assert store.read(lambda s: console.hyperparameters_of(s, [second.id])) == {
        second.id: {"lr": "0.2"}
    }
    assert store.read(lambda s: console.hyperparameters_of(s, [])) == {}


@covers("console.objective_history")
def test_objective_history_is_each_jobs_status_name_objective_and_end_in_number_order(
    store: Store,
) -> None:
    tuning = store.tuning()
    second = store.training(tuning, 2, status="Failed", ended_at=NOW + 5)
    third = store.training(tuning, 3, status="Completed", objective_value=0.5, ended_at=NOW + 9)
    first = store.training(tuning, 1, objective_value=0.7)  # running: its latest report
    store.training(store.tuning(), 1, status="Completed", objective_value=0.1, ended_at=NOW)

    rows = store.read(lambda s: console.objective_history(s, tuning.id))
    assert [tuple(row) for row in rows] == [
        ("InProgress", first.name, 0.7, None),
        ("Failed", second.name, None, NOW + 5),
        ("Completed", third.name, 0.5, NOW + 9),
    ]
    assert store.read(lambda s: console.objective_history(s, store.tuning().id)) == []


@covers("console.best_jobs")
@pytest.mark.parametrize("objective_type", ["Maximize", "Minimize"])
def test_best_jobs_are_the_best_ended_unfailed_jobs(store: Store, objective_type: str) -> None:
    tuning = store.tuning(objective_type=objective_type)
    ended = {
        seq: store.training(tuning, seq, status=status, objective_value=value, ended_at=NOW)
        for seq, status, value in (
            (1, "Completed", 2.0),
            (2, "Stopped", 4.0),
            (3, "Completed", 3.0),
            (4, "Completed", 1.0),
        )
    }
    store.training(tuning, 5, status="Failed", objective_value=100.0, ended_at=NOW)
    store.training(tuning, 6, status="Failed", objective_value=-100.0, ended_at=NOW)
    store.training(tuning, 7, objective_value=50.0)  # not ended
    store.training(tuning, 8, status="Completed", ended_at=NOW)  # no objective

    rows = store.read(lambda s: console.best_jobs(s, tuning.id, objective_type, 3))
    order = [2, 3, 1] if objective_type == "Maximize" else [4, 1, 3]
    assert [tuple(row) for row in rows] == [
        (ended[seq].id, ended[seq].name, ended[seq].status, False) for seq in order
    ]


@covers("console.best_jobs")
def test_best_jobs_break_a_tie_by_the_lower_number_as_describe_does(store: Store) -> None:
    tuning = store.tuning(objective_type="Minimize")
    jobs = {
        seq: store.training(tuning, seq, status="Completed", objective_value=1.0, ended_at=NOW)
        for seq in (3, 1, 2)  # stored out of number order, so ids do not follow numbers
    }
    rows = store.read(lambda s: console.best_jobs(s, tuning.id, "Minimize", 2))
    best = store.read(lambda s: repository.best_training_job(s, tuning.id, "Minimize"))
    assert [row.id for row in rows] == [jobs[1].id, jobs[2].id]
    assert best is not None and best.id == jobs[1].id


@covers("console.latest_jobs")
def test_latest_jobs_are_the_highest_numbers_first(store: Store) -> None:
    tuning = store.tuning()
    jobs = [store.training(tuning, seq) for seq in (1, 3, 2, 4)]
    store.training(store.tuning(), 9)
    rows = store.read(lambda s: console.latest_jobs(s, tuning.id, 3))
    assert [row.id for row in rows] == [jobs[3].id, jobs[1].id, jobs[2].id]


@covers("console.metric_points", "console.metric_names")
def test_metric_points_and_names_of_the_given_jobs(store: Store) -> None:
    tuning = store.tuning()
    one, two, other = (store.training(tuning, seq) for seq in (1, 2, 3))
    store.points(two, [("loss", 2.0, NOW, 1)])
    store.points(one, [("loss", 1.0, NOW + 1, 1), ("acc", 0.5, NOW, None), ("loss", 0.9, NOW, 2)])
    store.points(other, [("zeta", 1.0, NOW, None)])

    def points(metric: str | None) -> list[tuple[object, ...]]:
        rows = store.read(lambda s: console.metric_points(s, [two.id, one.id], metric))
        return [tuple(row) for row in rows]

    assert points(None) == [
        (one.id, "loss", 1, NOW + 1, 1.0),
        (one.id, "acc", None, NOW, 0.5),
        (one.id, "loss", 2, NOW, 0.9),
        (two.id, "loss", 1, NOW, 2.0),
    ]
    assert points("loss") == [p for p in points(None) if p[1] == "loss"]
    assert points("absent") == []
    assert store.read(lambda s: console.metric_points(s, [], None)) == []
    assert store.read(lambda s: console.metric_names(s, [one.id, two.id])) == ["acc", "loss"]
    assert store.read(lambda s: console.metric_names(s, [])) == []


@covers("pool.candidates", "pool.PoolCandidate")
def test_pool_candidates_are_the_teams_running_tuning_jobs_with_their_held_jobs(
    store: Store,
) -> None:
    busy = store.tuning(max_parallel=3, created_at=NOW + 1, request={"Name": "busy"})
    store.training(busy, 1, worker_id="w", lease_expires_at=NOW)
    store.training(busy, 2, status="Stopping", worker_id="w", lease_expires_at=NOW)
    store.training(busy, 3)  # a retry waiting for a claim: not running
    store.training(busy, 4, status="Completed", worker_id="w", ended_at=NOW)
    idle = store.tuning(max_parallel=1, created_at=NOW, request={"Name": "idle"})
    store.tuning(status="Stopping")
    store.tuning(status="Completed")
    store.tuning(account=new_account_id())

    def found(with_request: bool) -> list[PoolCandidate]:
        rows = store.read(lambda s: pool.candidates(s, store.account, with_request=with_request))
        return sorted(rows, key=lambda c: c.name)

    expected = sorted(
        [
            PoolCandidate(busy.name, NOW + 1, 3, 2, {"Name": "busy"}),
            PoolCandidate(idle.name, NOW, 1, 0, {"Name": "idle"}),
        ],
        key=lambda c: c.name,
    )
    assert found(True) == expected
    assert found(False) == [
        PoolCandidate(c.name, c.created_at, c.max_parallel, c.running, {}) for c in expected
    ]
    assert store.read(lambda s: pool.candidates(s, new_account_id(), with_request=True)) == []
