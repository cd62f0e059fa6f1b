"""``python -m bench.bayes.asynchronous``: workers that claim the moment they finish.

Its verdict (the engine's quality with ``workers - 1`` jobs always pending) is only worth as much
as its model of the workers, so the tests pin that model: one config asked per finished job, the
oldest job finishing first, every config told exactly once, the budget never exceeded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.bayes.asynchronous import main, run_asynchronous
from bench.bayes.optimizers import make_optimizer
from bench.bayes.problems import Config, get_problem


class _Recording:
    """An ask/tell optimiser that hands out numbered configs and records what it was told."""

    name = "recording"

    def __init__(self) -> None:
        self.handed = 0
        self.pending: list[int] = []
        self.pending_at_ask: list[int] = []
        self.ask_sizes: list[int] = []
        self.told: list[int] = []

    def ask(self, n: int) -> list[Config]:
        self.ask_sizes.append(n)
        self.pending_at_ask.append(len(self.pending))
        configs = [{"x1": str(self.handed + i), "x2": "0"} for i in range(n)]
        self.handed += n
        self.pending.extend(int(c["x1"]) for c in configs)
        return configs

    def tell(self, configs: list[Config], losses: list[float]) -> None:
        for config in configs:
            self.pending.remove(int(config["x1"]))
            self.told.append(int(config["x1"]))


def test_each_finished_job_frees_one_worker_for_one_new_config() -> None:
    opt = _Recording()
    losses = run_asynchronous(opt, get_problem("branin"), n_evals=7, workers=3)
    assert len(losses) == 7
    assert opt.ask_sizes == [3, 1, 1, 1, 1]  # 3 workers start, then one claim per finished job
    assert opt.pending_at_ask == [0, 2, 2, 2, 2]  # every later claim sees the other 2 running
    assert opt.told == list(range(7))  # first handed out, first finished; each told once
    assert opt.pending == []


def test_fewer_evaluations_than_workers_asks_only_the_budget() -> None:
    opt = _Recording()
    assert len(run_asynchronous(opt, get_problem("branin"), n_evals=2, workers=8)) == 2
    assert opt.ask_sizes == [2]


def test_the_engine_driven_asynchronously_is_deterministic_for_a_seed() -> None:
    problem = get_problem("branin")
    runs = [
        run_asynchronous(make_optimizer("amtune-bayesian", problem, 3), problem, 24, 4)
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0]) == 24


def test_the_command_compares_both_modes_seed_by_seed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--problems", "branin", "--seeds", "2", "--workers", "2", "--evals", "6"]) == 0
    out = capsys.readouterr().out
    assert "branin" in out and "batch" in out and "async" in out
    assert "2 workers, batch minus async at 6, paired over 2 seeds" in out


@pytest.mark.parametrize("argv", [["--seeds", "1"], ["--optimizer", "skopt-gp"]])
def test_a_comparison_it_cannot_make_is_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        main(argv)


def test_peers_run_asynchronously_and_a_stored_run_reports_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Optuna's TPE (constant liar) is driven like the engine, and the tables rebuilt from the
    stored runs are the ones printed when they were made."""
    out = tmp_path / "runs.json.gz"
    argv = ["--optimizers", "amtune-bayesian,optuna-tpe,random", "--problems", "branin"]
    argv += ["--seeds", "2", "--workers", "1,3", "--modes", "async", "--evals", "8"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "async, 3 worker(s), random-search scale" in printed
    assert "| optuna-tpe |" in printed and "amtune-bayesian minus each" in printed
    # the targets' comparisons: half the budget against the whole, and the better peer per problem
    assert "amtune-bayesian at 4 minus each at 8" in printed
    assert "| branin | " in printed.split("minus the better peer there")[1]
    assert main(["--report", str(out)]) == 0
    assert capsys.readouterr().out == printed
