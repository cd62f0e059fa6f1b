"""Hyperband strategy: the configs an ASHA tuning job gets, from the curves its jobs report."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from amtune.engine.spaces import Config, SearchSpace
from amtune.engine.strategies import SUPPORTED, get_strategy
from amtune.engine.strategies.base import History, Trial
from amtune.engine.strategies.hyperband import HyperbandStrategy, level_history
from amtune.engine.strategies.joint_model import levels_of, value_at

SPACE = SearchSpace.from_parameter_ranges(
    {
        "ContinuousParameterRanges": [
            {"Name": "a", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"},
            {"Name": "b", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"},
        ]
    }
)

#: A way to pick the next config from what has finished: (history, seed, index) -> config.
Suggest = Callable[[History, int, int], Config]

GOOD = np.array([0.2, 0.3])
"""Where the synthetic learning curves below end best."""
FAST = np.array([0.85, 0.8])
"""Where they start best (the curves cross)."""


def point(c: Config) -> np.ndarray:
    return np.array([float(c["a"]), float(c["b"])])


def crossing_value(c: Config, step: float, early_weight: float = 1.0) -> float:
    """Loss at ``step`` (1..9): fast starters near FAST lead at step 1, GOOD wins from step 3.

    With ``early_weight`` below 1 the early values predict the final ones, imperfectly."""
    x = point(c)
    final = float(np.sum((x - GOOD) ** 2))
    early = float(np.sum((x - FAST) ** 2))
    w = math.exp(-(step - 1) / 1.0)
    return w * early_weight * early + (1 - w * early_weight) * final + 0.5 / step


def curve(c: Config, steps: tuple[float, ...]) -> tuple[tuple[float, float], ...]:
    return tuple((s, crossing_value(c, s)) for s in steps)


def config(a: float, b: float) -> Config:
    return {"a": repr(a), "b": repr(b)}


def grid_configs(n: int, rng: np.random.Generator) -> list[Config]:
    return [config(float(a), float(b)) for a, b in rng.uniform(size=(n, 2))]


def asha_history(seed: int = 0) -> History:
    """14 ended jobs that all reported step 1, six of which went on to steps 3 and 9."""
    configs = grid_configs(14, np.random.default_rng(seed))
    finished = []
    for i, c in enumerate(configs):
        steps: tuple[float, ...] = (1.0, 3.0, 9.0) if i % 2 == 0 and i < 12 else (1.0,)
        cv = curve(c, steps)
        finished.append(Trial(c, cv[-1][1], cv))
    return History(finished=tuple(finished))


def test_registered_as_hyperband() -> None:
    assert "Hyperband" in SUPPORTED
    assert isinstance(get_strategy("Hyperband"), HyperbandStrategy)


def test_same_inputs_same_config() -> None:
    history = asha_history()
    a = HyperbandStrategy().suggest(SPACE, history, seed=7, index=14)
    b = HyperbandStrategy().suggest(SPACE, history, seed=7, index=14)
    c = HyperbandStrategy().suggest(SPACE, history, seed=8, index=14)
    assert a == b
    assert a != c


def test_the_model_uses_the_highest_level_enough_jobs_reached() -> None:
    history = asha_history()
    seen = level_history(history, SPACE.dim)
    reached = [t for t in history.finished if t.curve[-1][0] == 9.0]
    # six jobs reached step 9, and a 2-d space needs five: the model ranks at step 9
    by_config = {t.config["a"]: t.objective for t in seen.finished}
    for trial in reached:
        assert by_config[trial.config["a"]] == crossing_value(trial.config, 9.0)
    # the jobs stopped at step 1 count as no better than the worst value seen at step 9, or
    # their own last value when that is worse
    worst = max(crossing_value(t.config, 9.0) for t in reached)
    stopped = [t for t in history.finished if t.curve[-1][0] == 1.0]
    assert len(stopped) == 8
    for t in stopped:
        assert by_config[t.config["a"]] == max(worst, crossing_value(t.config, 1.0))
    assert seen.pending == ()


def test_stopped_jobs_can_be_believed_instead() -> None:
    seen = level_history(asha_history(), SPACE.dim, believe_stopped=True)
    assert len(seen.finished) == 6 and len(seen.pending) == 8


def test_running_jobs_count_at_the_level_they_reached() -> None:
    history = asha_history()
    running = grid_configs(3, np.random.default_rng(99))
    with_running = History(
        finished=history.finished,
        pending=tuple(running),
        pending_curves=(curve(running[0], (1.0, 3.0, 9.0)), curve(running[1], (1.0,)), ()),
    )
    seen = level_history(with_running, SPACE.dim)
    observed = {t.config["a"]: t.objective for t in seen.finished}
    assert observed[running[0]["a"]] == crossing_value(running[0], 9.0)
    # running jobs below the level are believed (pending), not judged: they may still climb
    assert seen.pending == (running[1], running[2])


def test_suggestions_follow_the_final_values_not_the_fast_starters() -> None:
    history = asha_history()
    picks = [
        point(HyperbandStrategy().suggest(SPACE, history, seed=s, index=14) or {}) for s in range(4)
    ]
    to_good = np.mean([np.linalg.norm(p - GOOD) for p in picks])
    to_fast = np.mean([np.linalg.norm(p - FAST) for p in picks])
    assert to_good < 0.3 < to_fast


def test_parallel_workers_get_distinct_configs() -> None:
    history = asha_history()
    strategy = HyperbandStrategy()
    finished = history.finished
    pending: list[Config] = []
    curves: list[tuple[tuple[float, float], ...]] = []
    for index in range(14, 20):
        c = strategy.suggest(
            SPACE,
            History(finished=finished, pending=tuple(pending), pending_curves=tuple(curves)),
            seed=3,
            index=index,
        )
        assert c is not None
        pending.append(c)
        curves.append(curve(c, (1.0,)) if index % 2 else ())
    used = [t.config for t in finished] + pending
    assert len({tuple(sorted(c.items())) for c in used}) == len(used)
    # the believers spread the batch rather than stacking it on the model's favourite
    pts = np.array([point(c) for c in pending])
    gaps = [np.linalg.norm(pts[i] - pts[j]) for i in range(6) for j in range(i + 1, 6)]
    assert min(gaps) > 1e-3


def asha_run(suggest_next: Suggest, n_jobs: int, seed: int) -> list[Config]:
    """One worker running successive halving at steps 1, 3, 9 (keep the top third), on curves
    whose early values predict the final ones imperfectly (a quarter of the early trend)."""
    finished: list[Trial] = []
    at_rung: dict[float, list[float]] = {1.0: [], 3.0: []}
    configs = []
    for index in range(n_jobs):
        c = suggest_next(History(finished=tuple(finished)), seed, index)
        configs.append(c)
        points: list[tuple[float, float]] = []
        for step in (1.0, 3.0, 9.0):
            v = crossing_value(c, step, early_weight=0.25)
            points.append((step, v))
            if step in at_rung:
                at_rung[step].append(v)
                ranked = sorted(at_rung[step])
                if v > ranked[max(0, math.ceil(len(ranked) / 3) - 1)]:
                    break
        finished.append(Trial(c, points[-1][1], tuple(points)))
    return configs


def test_with_curves_the_search_closes_in_faster_than_random() -> None:
    strategy = HyperbandStrategy()

    def model(history: History, seed: int, index: int) -> Config:
        return strategy.suggest(SPACE, history, seed=seed, index=index) or {}

    def uniform(history: History, seed: int, index: int) -> Config:
        a, b = np.random.default_rng([seed, index]).uniform(size=2)
        return config(float(a), float(b))

    def late_distance(pick: Suggest, seed: int) -> float:
        late = asha_run(pick, 24, seed)[12:]
        return float(np.median([np.linalg.norm(point(c) - GOOD) for c in late]))

    seeds = range(3)
    assert np.mean([late_distance(model, s) for s in seeds]) < 0.5 * np.mean(
        [late_distance(uniform, s) for s in seeds]
    )


def test_no_curves_failures_and_odd_points_do_not_crash() -> None:
    strategy = HyperbandStrategy()
    cs = grid_configs(10, np.random.default_rng(5))
    assert strategy.suggest(SPACE, History(), seed=1, index=0) is not None
    failed = History(finished=tuple(Trial(c, None) for c in cs))
    assert strategy.suggest(SPACE, failed, seed=1, index=10) not in cs
    no_curves = History(finished=tuple(Trial(c, crossing_value(c, 9.0)) for c in cs))
    assert strategy.suggest(SPACE, no_curves, seed=1, index=10) not in cs
    odd = History(
        finished=(
            Trial(cs[0], None, ((1.0, math.nan), (2.0, 0.5))),
            Trial(cs[1], 0.3, ((2.0, 0.3), (1.0, 0.9))),
            *(Trial(c, crossing_value(c, 3.0), curve(c, (1.0, 3.0))) for c in cs[2:]),
        ),
        pending=(cs[0] | {"a": "0.5"},),
        pending_curves=(),
    )
    pick = strategy.suggest(SPACE, odd, seed=1, index=11)
    assert pick is not None and pick not in cs


def test_the_joint_model_reads_every_level_a_job_reached() -> None:
    curves = [curve(c, (1.0, 2.0, 3.0, 9.0)) for c in grid_configs(2, np.random.default_rng(0))]
    curves.append(curve(grid_configs(1, np.random.default_rng(1))[0], (1.0,)))
    # ASHA's rungs: the lowest first step times 3^k, then the highest step reported
    assert levels_of(curves) == (1.0, 3.0, 9.0)
    assert levels_of([((2.0, 0.5), (20.0, 0.1))]) == (2.0, 6.0, 18.0, 20.0)
    assert levels_of([(), ()]) == ()
    # a job's value at a level is its last value at a step no later than the level
    assert value_at(((1.0, 0.9), (4.0, 0.5)), 3.0) == 0.9
    assert value_at(((1.0, 0.9), (4.0, 0.5)), 9.0) is None


def test_jobs_stopped_at_the_first_rung_inform_the_joint_model() -> None:
    """The level model sees a job stopped at step 1 only as "no better than the worst at the
    level"; the joint model reads its step-1 value. Changing what stopped jobs showed at
    step 1 changes the joint model's suggestion and leaves the level model's unchanged."""
    history = asha_history()
    worst = max(t.curve[-1][1] for t in history.finished if t.curve[-1][0] == 9.0)

    def stopped_at(value: float) -> History:
        """Every job stopped at step 1 showed ``value`` there (below the worst at step 9)."""
        return History(
            finished=tuple(
                t if t.curve[-1][0] > 1.0 else Trial(t.config, value, ((1.0, value),))
                for t in history.finished
            )
        )

    history, other = stopped_at(0.0), stopped_at(0.99 * worst)
    level = HyperbandStrategy(model="level")
    joint = HyperbandStrategy()
    assert level.suggest(SPACE, history, seed=2, index=14) == level.suggest(
        SPACE, other, seed=2, index=14
    )
    assert joint.suggest(SPACE, history, seed=2, index=14) != joint.suggest(
        SPACE, other, seed=2, index=14
    )


def test_too_few_curves_give_the_quasi_random_design() -> None:
    cs = grid_configs(3, np.random.default_rng(4))
    history = History(finished=tuple(Trial(c, 0.5, curve(c, (1.0,))) for c in cs))
    picks = {
        tuple(sorted((HyperbandStrategy().suggest(SPACE, history, seed=5, index=3) or {}).items()))
    }
    picks.add(
        tuple(
            sorted(
                (
                    HyperbandStrategy(model="level").suggest(SPACE, history, seed=5, index=3) or {}
                ).items()
            )
        )
    )
    assert len(picks) == 1  # both take the Bayesian engine's initial design
