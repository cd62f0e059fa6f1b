"""The benchmark harness: the Bayesmark score formula, the problems' spaces, a tiny end-to-end run.

The harness decides which engine design wins, so its arithmetic and its fairness (every optimiser
sees the same ranges) must be right; these tests pin both.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.bayes import baselines
from bench.bayes.optimizers import (
    AskTell,
    OptunaPeer,
    SkoptPeer,
    make_optimizer,
    parse_params,
)
from bench.bayes.problems import all_problem_names, get_problem
from bench.bayes.runner import RunSpec, run_many
from bench.bayes.scoring import (
    Reference,
    aggregate,
    best_so_far,
    normalised_regret,
    paired_difference,
    random_search_references,
    regrets_at,
)

from amtune.engine.spaces import SearchSpace

# --------------------------------------------------------------------------- scorer


def test_best_so_far_is_the_running_minimum() -> None:
    assert best_so_far([5.0, 7.0, 3.0, 4.0, 1.0]).tolist() == [5.0, 5.0, 3.0, 3.0, 1.0]


def test_regret_is_normalised_between_optimum_and_median_random() -> None:
    ref = Reference(median_random=10.0, optimum=0.0)
    assert normalised_regret(10.0, ref) == pytest.approx(1.0)
    assert normalised_regret(0.0, ref) == pytest.approx(0.0)
    assert normalised_regret(2.5, ref) == pytest.approx(0.25)


def test_regret_is_clipped_to_minus_one_and_one() -> None:
    ref = Reference(median_random=3.0, optimum=1.0)
    assert normalised_regret(100.0, ref) == 1.0  # far worse than random: counts as random
    assert normalised_regret(-100.0, ref) == -1.0  # beats a poor optimum estimate: bounded
    assert normalised_regret(0.0, ref) == pytest.approx(-0.5)  # mild overshoot is kept


def test_regret_at_checkpoints_uses_best_so_far() -> None:
    ref = Reference(median_random=10.0, optimum=0.0)
    losses = [12.0, 8.0, 9.0, 5.0] + [6.0] * 12 + [1.0] + [7.0] * 15
    got = regrets_at(losses, ref, [2, 4, 16, 32, 64])
    assert got == pytest.approx({2: 0.8, 4: 0.5, 16: 0.5, 32: 0.1})  # 64 not reached


def test_aggregate_matches_hand_computed_bayesmark_score() -> None:
    refs = {"p": Reference(10.0, 0.0), "q": Reference(2.0, 1.0)}
    n = 16
    # best-so-far at 16 -> regret: p/0 2 -> .2; p/1 4 -> .4; q/0 1.5 -> .5; q/1 3 -> 1 (clipped)
    curves = {
        ("p", 0): [20.0] * 10 + [2.0] * 6,
        ("p", 1): [4.0] * 16,
        ("q", 0): [9.0] * 15 + [1.5],
        ("q", 1): [3.0] * 16,
    }
    score = aggregate(curves, refs, [n])[n]
    per_seed = [100 * (1 - (0.2 + 0.5) / 2), 100 * (1 - (0.4 + 1.0) / 2)]  # 65, 30
    assert score.mean == pytest.approx(100 * (1 - np.mean([0.2, 0.4, 0.5, 1.0])))
    assert score.mean == pytest.approx(np.mean(per_seed))
    assert score.se == pytest.approx(np.std(per_seed, ddof=1) / math.sqrt(2))
    assert (score.n_seeds, score.n_problems) == (2, 2)


def test_paired_difference_compares_seed_by_seed_on_complete_seeds_only() -> None:
    """A peer that is 10 points worse on every seed, whatever that seed's luck, differs by
    exactly 10 with no spread; a seed one of them lacks a problem on is left out."""
    refs = {"p": Reference(10.0, 0.0), "q": Reference(10.0, 0.0)}
    luck = {0: 1.0, 1: 5.0, 2: 3.0}  # per-seed regret x 10 shared by both optimizers
    a = {(p, s): [v] * 16 for p in "pq" for s, v in luck.items()}
    b = {(p, s): [v + 1.0] * 16 for p in "pq" for s, v in luck.items()}
    del b[("q", 2)]
    diff = paired_difference(a, b, refs, 16)
    assert diff is not None
    assert (diff.mean, diff.se) == pytest.approx((10.0, 0.0))
    assert diff.n_seeds == 2
    assert aggregate(a, refs, [16])[16].se > 5  # the unpaired spread hides the same lead
    assert paired_difference(a, b, refs, 32) is None  # runs shorter than the checkpoint
    # a at 8 evaluations against b at 16: a scores 50 at 8 on every seed, b 80 and 40 at 16
    halved = {k: [5.0] * 8 + v[8:] for k, v in a.items()}
    early = paired_difference(halved, b, refs, 16, n_a=8)
    assert early is not None and early.mean == pytest.approx(-10.0)


def test_random_search_scale_puts_zero_at_random_search_of_the_same_budget() -> None:
    """On the random-search scale 0 is random search's median best after n evaluations, not
    one random evaluation, and a run worse than random search scores below 0 (down to -100)."""
    refs = {"p": Reference(median_random=100.0, optimum=0.0)}
    random_runs = {("p", s): [100.0, 40.0 + s, 20.0 + s, 20.0] for s in range(3)}
    per_n = random_search_references(random_runs, refs, [2, 4])
    assert per_n[2]["p"].median_random == 41.0  # median of 40, 41, 42
    assert per_n[4]["p"].median_random == 20.0
    assert per_n[2]["p"].optimum == 0.0
    assert aggregate({("p", 0): [41.0, 90.0]}, per_n[2], [2])[2].mean == pytest.approx(0.0)
    assert aggregate({("p", 0): [10.0] * 4}, per_n[4], [4])[4].mean == pytest.approx(50.0)
    assert aggregate({("p", 0): [30.0] * 4}, per_n[4], [4])[4].mean == pytest.approx(-50.0)
    assert aggregate({("p", 0): [99.0] * 4}, per_n[4], [4])[4].mean == pytest.approx(-100.0)
    # Bayesmark's scale still stops at 0 for the same run.
    assert aggregate({("p", 0): [99.0] * 4}, refs, [4])[4].mean == pytest.approx(1.0)


def test_aggregate_skips_checkpoints_beyond_the_runs() -> None:
    refs = {"p": Reference(10.0, 0.0)}
    assert 32 not in aggregate({("p", 0): [5.0] * 16}, refs, [16, 32])


def test_maximised_problems_are_scored_on_the_negated_metric() -> None:
    hart = get_problem("hartmann6")
    assert hart.maximize
    best = {
        "x1": "0.20169",
        "x2": "0.150011",
        "x3": "0.476874",
        "x4": "0.275332",
        "x5": "0.311652",
        "x6": "0.6573",
    }
    assert hart.loss(best) == pytest.approx(-3.32237, abs=1e-4)
    assert hart.optimum_loss == pytest.approx(-3.32237, abs=1e-4)


@pytest.mark.parametrize("name", ["branin", "hartmann6", "ackley5", "mixed_offset", "mixed_revlog"])
def test_synthetic_optimum_is_attained_and_not_beaten_by_random_points(name: str) -> None:
    problem = get_problem(name)
    space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
    rng = np.random.default_rng(0)
    samples = [problem.loss(space.from_unit(rng.random(space.dim))) for _ in range(2000)]
    assert problem.optimum_loss is not None
    assert min(samples) >= problem.optimum_loss - 1e-9


# --------------------------------------------------------------------------- spaces

ALL_PROBLEMS = all_problem_names()


def test_every_bayesmark_model_and_data_set_is_present() -> None:
    models = {n.split("_")[0] for n in ALL_PROBLEMS if "_" in n and n.count("_") == 2}
    assert {"kNN", "SVM", "DT", "RF", "MLP-adam", "MLP-sgd", "ada", "lasso", "linear"} <= models
    for dataset in ("iris", "wine", "breast", "digits", "diabetes"):
        assert any(f"_{dataset}_" in n for n in ALL_PROBLEMS)


@pytest.mark.parametrize("name", ALL_PROBLEMS)
def test_space_round_trips_through_searchspace(name: str) -> None:
    problem = get_problem(name)
    space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
    assert space.dim == problem.dim == len(parse_params(problem.parameter_ranges))
    rng = np.random.default_rng(1)
    for u in [np.zeros(space.dim), np.ones(space.dim), *rng.random((20, space.dim))]:
        config = space.from_unit(u)
        assert space.from_unit(space.to_unit(config)) == config


def _inside(problem_name: str, config: dict[str, str]) -> None:
    params = parse_params(get_problem(problem_name).parameter_ranges)
    assert set(config) == {p.name for p in params}
    for p in params:
        text = config[p.name]
        if p.kind == "categorical":
            assert text in p.values
        elif p.kind == "integer":
            assert text.lstrip("-").isdigit(), f"{p.name}={text!r} is not an integer string"
            assert p.low <= int(text) <= p.high
        else:
            assert p.low <= float(text) <= p.high, f"{p.name}={text} outside [{p.low}, {p.high}]"


def _one_per_space() -> list[str]:
    """Problems with distinct ParameterRanges (a model's space does not depend on the metric)."""
    seen: dict[str, str] = {}
    for name in ALL_PROBLEMS:
        seen.setdefault(repr(get_problem(name).parameter_ranges), name)
    return list(seen.values())


@pytest.mark.parametrize("name", _one_per_space())
def test_every_peer_translation_stays_inside_the_ranges(name: str) -> None:
    problem = get_problem(name)
    peers: list[AskTell] = [
        OptunaPeer(problem, 0, "tpe"),
        OptunaPeer(problem, 0, "gp"),
        SkoptPeer(problem, 0),
        make_optimizer("random", problem, 0),
    ]
    for peer in peers:
        for config in peer.ask(8):  # start-up phase: the translation, not the model, decides
            _inside(name, config)


def test_reverse_logarithmic_peers_sample_near_one_like_amt() -> None:
    """beta_2 in [0.9, 1-1e-6]: AMT's scale puts half the mass above 1 - 10**-3.5."""
    problem = get_problem("MLP-adam_digits_acc")
    peer = OptunaPeer(problem, 3, "tpe")
    space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
    rng = np.random.default_rng(3)
    threshold = 1 - 10**-3.5
    amt = [float(space.from_unit(rng.random(space.dim))["beta_2"]) > threshold for _ in range(400)]
    optuna = []
    for _ in range(40):
        optuna += [float(c["beta_2"]) > threshold for c in peer.ask(10)]
    assert 0.4 < np.mean(amt) < 0.6
    assert 0.35 < np.mean(optuna) < 0.65


# --------------------------------------------------------------------------- a tiny run


def test_random_vs_random_scores_near_the_random_baseline(tmp_path: Path) -> None:
    problems = ["branin", "mixed_offset"]
    data = baselines.calibrate(
        problems, jobs=1, command="test", samples=4000, path=tmp_path / "b.json"
    )
    specs = [RunSpec("random", p, s, 1, 16) for p in problems for s in (0, 1)]
    runs = run_many(specs, jobs=1)
    assert all(r.error is None and len(r.losses) == 16 for r in runs)
    refs = baselines.references(data, [(r.spec.problem, r.losses) for r in runs])
    score = aggregate({(r.spec.problem, r.spec.seed): r.losses for r in runs}, refs, [16])[16]

    # what random search of 16 evaluations scores on average, from the calibration distribution
    rng = np.random.default_rng(0)
    expected = []
    for p in problems:
        pool = np.array(baselines._sample_chunk((p, 99, 4000)))
        best = rng.choice(pool, size=(2000, 16)).min(axis=1)
        expected.append(np.mean([normalised_regret(b, refs[p]) for b in best]))
    expected_score = 100 * (1 - np.mean(expected))
    assert abs(score.mean - expected_score) < 10, (score, expected_score)

    again = run_many(specs, jobs=1)  # the same seeds give the same curves
    assert [r.losses for r in again] == [r.losses for r in runs]


# --------------------------------------------------------------------------- end to end


@pytest.fixture
def service_url(tmp_path: Path) -> Iterator[str]:
    """A real ``amtune serve`` on a free port over a fresh SQLite file."""
    import os
    import socket
    import subprocess
    import time

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "AMTUNE_DATABASE_URL": f"sqlite:///{tmp_path / 'amtune.db'}"}
    amtune = Path(sys.executable).with_name("amtune")
    proc = subprocess.Popen(
        [str(amtune), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        else:
            pytest.fail("amtune serve did not become healthy")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _engine_and_service_curves(
    service_url: str, strategy: str, problem: str, seed: int, n_evals: int
) -> tuple[list[float], list[float], list[float]]:
    """The engine's batch-1 curve, then the service's with one worker and with four."""
    from bench.bayes.service import run_service_job

    name = "random" if strategy == "Random" else f"amtune-{strategy.lower()}"
    engine = run_many([RunSpec(name, problem, seed, 1, n_evals)], jobs=1)[0].losses
    service = [
        run_service_job(
            service_url,
            get_problem(problem),
            n_evals=n_evals,
            workers=workers,
            seed=seed,
            strategy=strategy,
        )
        for workers in (1, 4)
    ]
    return engine, service[0], service[1]


@pytest.mark.slow
def test_service_random_search_reproduces_the_engine_curve(service_url: str) -> None:
    """Through boto3 + the REST worker protocol, Strategy=Random with RandomSeed=s gives the
    configs the engine gives for seed s, so the service can be scored like any engine run."""
    # hartmann6 is a Maximize objective: the sign must survive the trip
    engine, sequential, parallel = _engine_and_service_curves(
        service_url, "Random", "hartmann6", seed=5, n_evals=16
    )
    assert sequential == engine
    assert sorted(parallel) == sorted(engine)


@pytest.mark.slow
def test_service_bayesian_search_reproduces_the_engine_curve(service_url: str) -> None:
    """Strategy=Bayesian through the service, one worker: the same configs in the same order as
    the engine driven in-process, so the engine benchmark's scores hold for the service. With
    four workers the service still runs every evaluation once, on distinct configs."""
    # hartmann6 (6 dimensions): 8 Sobol points, then 12 suggestions from the GP
    engine, sequential, parallel = _engine_and_service_curves(
        service_url, "Bayesian", "hartmann6", seed=3, n_evals=20
    )
    assert sequential == engine
    assert len(parallel) == 20
    assert len(set(parallel)) == 20
