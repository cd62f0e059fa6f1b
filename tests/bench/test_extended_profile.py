"""The ``extended`` profile: multimodal functions, a 20-D one, integer-only tree spaces.

A score is regret against the stated optimum, so a misplaced optimum would silently distort every
figure of these problems; and a model-tuning objective that is not a deterministic function of
the config would make runs of one seed disagree between optimizers. These tests pin both, and
that both benchmark commands run the profile.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds bench/

from bench.bayes import asynchronous, baselines
from bench.bayes.__main__ import parse_args, resolve
from bench.bayes.problems import all_problem_names, get_problem
from bench.bayes.problems.multimodal import ARGMIN, MULTIMODAL
from bench.bayes.problems.trees import tree_problem_names
from bench.bayes.profiles import PROFILES

from amtune.engine.spaces import SearchSpace


@pytest.mark.parametrize("name", list(MULTIMODAL))
def test_the_stated_argmin_attains_the_stated_optimum(name: str) -> None:
    problem = get_problem(name)
    argmin = {f"x{i}": repr(v) for i, v in enumerate(ARGMIN[name], start=1)}
    assert problem.optimum_loss is not None
    assert problem.dim == len(argmin)
    assert problem.loss(argmin) == pytest.approx(problem.optimum_loss, abs=1e-9)


@pytest.mark.parametrize("name", list(MULTIMODAL))
def test_no_point_beats_the_stated_optimum(name: str) -> None:
    """Random points, and points a small step from the argmin in every direction, are worse."""
    problem = get_problem(name)
    assert problem.optimum_loss is not None
    space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
    rng = np.random.default_rng(0)
    samples = [space.from_unit(rng.random(space.dim)) for _ in range(2000)]
    argmin = np.array(ARGMIN[name])
    for step in rng.normal(scale=1e-3, size=(200, argmin.size)):
        samples.append({f"x{i}": repr(v) for i, v in enumerate(argmin + step, start=1)})
    assert min(problem.loss(c) for c in samples) > problem.optimum_loss


@pytest.mark.parametrize("name", tree_problem_names())
def test_tree_problems_are_integer_only_and_deterministic(name: str) -> None:
    problem = get_problem(name)
    assert problem.parameter_ranges["ContinuousParameterRanges"] == []
    assert problem.parameter_ranges["CategoricalParameterRanges"] == []
    names = {p["Name"] for p in problem.parameter_ranges["IntegerParameterRanges"]}
    assert names == {"max_depth", "min_samples_split", "min_samples_leaf", "max_features"}
    space = SearchSpace.from_parameter_ranges(problem.parameter_ranges)
    rng = np.random.default_rng(2)
    configs = [space.from_unit(rng.random(space.dim)) for _ in range(3)]
    first = [problem.loss(c) for c in configs]
    again = [get_problem(name).loss(c) for c in configs]  # a fresh build, as a worker makes
    assert first == again
    assert all(np.isfinite(first)) and len(set(first)) > 1


def test_max_features_counts_up_to_the_data_sets_features() -> None:
    ranges = get_problem("RF-int_breast_nll").parameter_ranges["IntegerParameterRanges"]
    assert {r["Name"]: r["MaxValue"] for r in ranges}["max_features"] == "30"
    ranges = get_problem("DT-int_friedman1_mse").parameter_ranges["IntegerParameterRanges"]
    assert {r["Name"]: r["MaxValue"] for r in ranges}["max_features"] == "10"


def test_the_profile_resolves_to_known_problems_with_baselines() -> None:
    profile = resolve(parse_args(["--profile", "extended"]))
    assert profile.name == "extended" and profile.n_evals == 64
    assert profile.seeds == tuple(range(10))
    assert set(profile.problems) == {*MULTIMODAL, *tree_problem_names()}
    assert set(profile.problems) <= set(all_problem_names())
    assert set(profile.problems) <= set(baselines.load())  # the random-search scale is stored
    assert max(get_problem(p).dim for p in profile.problems) == 20


def test_the_asynchronous_command_runs_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--profile", "extended", "--optimizers", "amtune-bayesian,random", "--seeds", "0,1"]
    assert asynchronous.main([*argv, "--evals", "3", "--workers", "2", "--modes", "async"]) == 0
    table = capsys.readouterr().out.split("per problem at 3")[1]
    for name in PROFILES["extended"].problems:
        assert f"| {name} |" in table
