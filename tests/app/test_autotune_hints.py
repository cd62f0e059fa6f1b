"""Autotune's rules turning a ValueHint into a range (app/autotune.py)."""

from __future__ import annotations

from typing import Any

import pytest

from amtune.app.autotune import range_for_hint
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
