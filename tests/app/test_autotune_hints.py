"""Autotune's rules: a ValueHint into a range, and the strategy, parallel limit and early
stopping it picks (app/autotune.py)."""

from __future__ import annotations

from typing import Any

import pytest

from amtune.app.autotune import choose_strategy, early_stopping_for, parallel_for, range_for_hint
from amtune.engine.spaces import SearchSpace


@pytest.mark.parametrize(
    ("hint", "member", "expected"),
    [
        (
            "6",
            "IntegerParameterRanges",
            {"MinValue": "1", "MaxValue": "24", "ScalingType": "Logarithmic"},
        ),
        (
            "100",
            "IntegerParameterRanges",
            {"MinValue": "25", "MaxValue": "400", "ScalingType": "Logarithmic"},
        ),
        (
            "2",
            "IntegerParameterRanges",
            {"MinValue": "1", "MaxValue": "8", "ScalingType": "Linear"},
        ),
        (
            "0",
            "IntegerParameterRanges",
            {"MinValue": "-10", "MaxValue": "10", "ScalingType": "Linear"},
        ),
        (
            "0.1",
            "ContinuousParameterRanges",
            {"MinValue": "0.01", "MaxValue": "1.0", "ScalingType": "Logarithmic"},
        ),
        (
            "0.8",
            "ContinuousParameterRanges",
            {"MinValue": "0.08", "MaxValue": "1.0", "ScalingType": "Logarithmic"},
        ),
        (
            "2.5",
            "ContinuousParameterRanges",
            {"MinValue": "0.25", "MaxValue": "25.0", "ScalingType": "Logarithmic"},
        ),
        (
            "1e-3",
            "ContinuousParameterRanges",
            {"MinValue": "0.0001", "MaxValue": "0.01", "ScalingType": "Logarithmic"},
        ),
        (
            "0.0",
            "ContinuousParameterRanges",
            {"MinValue": "-1.0", "MaxValue": "1.0", "ScalingType": "Linear"},
        ),
        (
            "-0.5",
            "ContinuousParameterRanges",
            {"MinValue": "-5.0", "MaxValue": "-0.05", "ScalingType": "Linear"},
        ),
        ("True", "CategoricalParameterRanges", {"Values": ["True", "False"]}),
        ("false", "CategoricalParameterRanges", {"Values": ["false", "true"]}),
        ("gbtree", "CategoricalParameterRanges", {"Values": ["gbtree"]}),
    ],
)
def test_a_hint_becomes_a_range_around_it(hint: str, member: str, expected: dict[str, Any]) -> None:
    chosen_member, chosen = range_for_hint("p", hint)
    assert chosen_member == member
    assert chosen == {"Name": "p", **expected}
    # Every chosen range is one the engine accepts, and it holds the hint itself.
    space = SearchSpace.from_parameter_ranges({member: [chosen]})
    if member != "CategoricalParameterRanges":
        assert float(chosen["MinValue"]) <= float(hint) <= float(chosen["MaxValue"])
    assert space.dim == 1


def autotuned_request(statics: list[dict[str, str]], **config: Any) -> dict[str, Any]:
    """A request body with one definition per static-hyperparameter map."""
    bodies = [{"StaticHyperParameters": s} for s in statics]
    request: dict[str, Any] = {"HyperParameterTuningJobConfig": dict(config)}
    if len(bodies) == 1:
        request["TrainingJobDefinition"] = bodies[0]
    else:
        request["TrainingJobDefinitions"] = bodies
    return request


@pytest.mark.parametrize(
    ("statics", "config", "strategy", "early_stopping"),
    [
        ([{"epochs": "9"}], {}, "Hyperband", "Off"),
        ([{"num_epochs": "3"}], {}, "Hyperband", "Off"),
        ([{"epochs": "2"}], {}, "Bayesian", "Off"),  # no rung below the last
        ([{"epochs": "many"}], {}, "Bayesian", "Off"),
        ([{"num_round": "100"}], {}, "Bayesian", "Off"),  # not a name Hyperband reads
        ([{"epochs": "9"}, {"lr": "0.1"}], {}, "Bayesian", "Off"),  # every definition or none
        ([{"epochs": "9"}], {"TrainingJobEarlyStoppingType": "Auto"}, "Bayesian", "Auto"),
        (
            [{}],
            {"StrategyConfig": {"HyperbandStrategyConfig": {"MaxResource": 27}}},
            "Hyperband",
            "Off",
        ),
    ],
)
def test_autotune_strategy_and_early_stopping_rules(
    statics: list[dict[str, str]], config: dict[str, Any], strategy: str, early_stopping: str
) -> None:
    request = autotuned_request(statics, **config)
    chosen = choose_strategy(request)
    assert chosen == strategy
    given = config.get("TrainingJobEarlyStoppingType")
    assert (given or early_stopping_for(chosen, request)) == early_stopping


def test_autotune_early_stopping_for_a_strategy_the_user_chose() -> None:
    with_epochs = autotuned_request([{"epochs": "9"}])
    assert early_stopping_for("Random", with_epochs) == "Auto"
    assert early_stopping_for("Grid", with_epochs) == "Off"
    assert early_stopping_for("Hyperband", with_epochs) == "Off"


@pytest.mark.parametrize(
    ("strategy", "budget", "parallel"),
    [
        ("Bayesian", 20, 2),
        ("Bayesian", 40, 4),
        ("Bayesian", 9, 1),
        ("Bayesian", 750, 10),
        ("Hyperband", 40, 10),
        ("Random", 4, 4),
        ("Grid", 6, 6),
    ],
)
def test_autotune_parallel_rule(strategy: str, budget: int, parallel: int) -> None:
    assert parallel_for(strategy, budget) == parallel
