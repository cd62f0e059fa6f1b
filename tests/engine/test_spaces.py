"""SearchSpace: what a training job receives for a unit point, and the exact round trip."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amtune.engine.spaces import (
    CategoricalRange,
    ContinuousRange,
    IntegerRange,
    SearchSpace,
)

unit = st.floats(min_value=0.0, max_value=1.0)
any_float = st.floats(allow_nan=False, allow_infinity=True)


def space(**lists: list[dict[str, Any]]) -> SearchSpace:
    return SearchSpace.from_parameter_ranges(lists)


def cont(name: str, lo: str, hi: str, scaling: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"Name": name, "MinValue": lo, "MaxValue": hi}
    if scaling is not None:
        spec["ScalingType"] = scaling
    return spec


def one_continuous(lo: str, hi: str, scaling: str) -> SearchSpace:
    return space(ContinuousParameterRanges=[cont("x", lo, hi, scaling)])


def one_integer(lo: str, hi: str, scaling: str = "Linear") -> SearchSpace:
    return space(IntegerParameterRanges=[cont("n", lo, hi, scaling)])


EXTREME_CONTINUOUS = [
    ("0", "1", "Linear"),
    ("-1e6", "1e-300", "Linear"),
    ("1e-10", "1e10", "Logarithmic"),
    ("5e-324", "1.7e308", "Logarithmic"),
    ("0.0001", "0.0002", "Logarithmic"),
    ("0", "0.999999", "ReverseLogarithmic"),
    ("0.9", "0.9999999999999999", "ReverseLogarithmic"),
    ("0", "1e-12", "ReverseLogarithmic"),
    ("0.5", "0.5", "Logarithmic"),
]


# ---------------------------------------------------------------------------- parsing


def test_ranges_are_ordered_integer_continuous_categorical_in_request_order() -> None:
    s = space(
        CategoricalParameterRanges=[{"Name": "c", "Values": ["a"]}],
        ContinuousParameterRanges=[cont("y", "0", "1"), cont("x", "0", "1")],
        IntegerParameterRanges=[cont("n", "1", "2")],
    )
    assert s.names == ("n", "y", "x", "c")
    assert s.kinds == ("integer", "continuous", "continuous", "categorical")
    assert s.dim == 4


def test_auto_and_missing_scaling_mean_linear() -> None:
    s = space(
        ContinuousParameterRanges=[cont("a", "0", "1", "Auto"), cont("b", "0", "1")],
        IntegerParameterRanges=[cont("n", "0", "9", "Auto")],
    )
    assert [r.scaling for r in s.ranges if not isinstance(r, CategoricalRange)] == [
        "Linear",
        "Linear",
        "Linear",
    ]
    assert s.ranges[0] == IntegerRange("n", 0, 9, "Linear")
    assert s.ranges[1] == ContinuousRange("a", 0.0, 1.0, "Linear")


@pytest.mark.parametrize(
    "ranges",
    [
        {"ContinuousParameterRanges": [cont("x", "1", "0")]},
        {"ContinuousParameterRanges": [cont("x", "abc", "1")]},
        {"ContinuousParameterRanges": [cont("x", "0", "inf")]},
        {"ContinuousParameterRanges": [cont("x", "nan", "1")]},
        {"ContinuousParameterRanges": [cont("x", "0", "1", "Logarithmic")]},
        {"ContinuousParameterRanges": [cont("x", "0", "1", "ReverseLogarithmic")]},
        {"ContinuousParameterRanges": [cont("x", "-0.1", "0.5", "ReverseLogarithmic")]},
        {"ContinuousParameterRanges": [cont("x", "0", "1", "Cubic")]},
        {"ContinuousParameterRanges": [cont("x", "-1e308", "1e308")]},
        {"IntegerParameterRanges": [cont("n", "1.5", "3")]},
        {"IntegerParameterRanges": [cont("n", "1", "3.0")]},
        {"IntegerParameterRanges": [cont("n", "5", "3")]},
        {"IntegerParameterRanges": [cont("n", "0", "3", "Logarithmic")]},
        {"IntegerParameterRanges": [cont("n", "1", "3", "ReverseLogarithmic")]},
        {"IntegerParameterRanges": [cont("n", "0", str(2**60))]},
        {"IntegerParameterRanges": [{"Name": "n", "MinValue": "1"}]},
        {"CategoricalParameterRanges": [{"Name": "c", "Values": []}]},
        {"CategoricalParameterRanges": [{"Name": "c", "Values": ["a", "a"]}]},
        {"CategoricalParameterRanges": [{"Name": "c", "Values": "ab"}]},
        {"CategoricalParameterRanges": [{"Name": "c", "Values": [1, 2]}]},
        {"CategoricalParameterRanges": [{"Values": ["a"]}]},
        {
            "IntegerParameterRanges": [cont("x", "1", "2")],
            "CategoricalParameterRanges": [{"Name": "x", "Values": ["a"]}],
        },
        {"IntegerParameterRanges": "nope"},
    ],
)
def test_nonsense_ranges_raise_value_error(ranges: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SearchSpace.from_parameter_ranges(ranges)


# ---------------------------------------------------------------------------- continuous


@pytest.mark.parametrize(("lo", "hi", "scaling"), EXTREME_CONTINUOUS)
def test_unit_endpoints_decode_to_the_exact_bounds(lo: str, hi: str, scaling: str) -> None:
    s = one_continuous(lo, hi, scaling)
    assert float(s.from_unit([0.0])["x"]) == float(lo)
    assert float(s.from_unit([1.0])["x"]) == float(hi)


@pytest.mark.parametrize(("lo", "hi", "scaling"), EXTREME_CONTINUOUS)
@settings(max_examples=300)
@given(u=any_float)
def test_continuous_values_never_leave_the_range(lo: str, hi: str, scaling: str, u: float) -> None:
    s = one_continuous(lo, hi, scaling)
    text = s.from_unit([u])["x"]
    assert text == repr(float(text))  # shortest round-trip form
    assert float(lo) <= float(text) <= float(hi)


@pytest.mark.parametrize(("lo", "hi", "scaling"), EXTREME_CONTINUOUS)
@settings(max_examples=300)
@given(u=unit)
def test_continuous_round_trip_is_exact(lo: str, hi: str, scaling: str, u: float) -> None:
    s = one_continuous(lo, hi, scaling)
    config = s.from_unit([u])
    back = s.to_unit(config)
    assert 0.0 <= back[0] <= 1.0
    assert s.from_unit(back) == config


@pytest.mark.parametrize(("lo", "hi", "scaling"), EXTREME_CONTINUOUS)
@settings(max_examples=200)
@given(data=st.data())
def test_any_in_range_value_is_stable_after_one_round(
    lo: str, hi: str, scaling: str, data: st.DataObject
) -> None:
    x = data.draw(st.floats(min_value=float(lo), max_value=float(hi)))
    s = one_continuous(lo, hi, scaling)
    once = s.from_unit(s.to_unit({"x": repr(x)}))
    assert s.from_unit(s.to_unit(once)) == once
    # close on the scale that matters: the unit coordinate
    assert abs(s.to_unit(once)[0] - s.to_unit({"x": repr(x)})[0]) <= 1e-12


def test_log_scaling_maps_decades_to_equal_unit_widths() -> None:
    s = one_continuous("0.0001", "1", "Logarithmic")
    assert s.to_unit({"x": "0.01"})[0] == pytest.approx(0.5)
    assert float(s.from_unit([0.25])["x"]) == pytest.approx(0.001)


def test_reverse_log_scaling_spreads_values_close_to_one() -> None:
    s = one_continuous("0", "0.999", "ReverseLogarithmic")
    # 1 - x spans 1 .. 0.001 in log space; half way is 1 - x = 0.0316...
    assert float(s.from_unit([0.5])["x"]) == pytest.approx(1 - 10**-1.5)
    assert s.to_unit({"x": "0.99"})[0] == pytest.approx(2 / 3)


def test_linear_continuous_formula() -> None:
    s = one_continuous("-1", "3", "Linear")
    assert s.from_unit([0.25])["x"] == "0.0"
    assert s.to_unit({"x": "2"})[0] == pytest.approx(0.75)


def test_from_unit_clips_out_of_cube_points() -> None:
    s = one_continuous("1e-3", "1e3", "Logarithmic")
    assert s.from_unit([-5.0]) == s.from_unit([0.0]) == {"x": "0.001"}
    assert s.from_unit([7.0]) == s.from_unit([1.0]) == {"x": "1000.0"}


def test_negative_zero_never_printed() -> None:
    s = one_continuous("-0", "1", "Linear")
    assert s.from_unit([0.0])["x"] == "0.0"


# ---------------------------------------------------------------------------- integer


@pytest.mark.parametrize(
    ("lo", "hi", "scaling"),
    [("1", "1000", "Logarithmic"), ("-5", "5", "Linear"), ("1", "2", "Logarithmic"),
     ("7", "7", "Linear"), ("1", str(2**53), "Logarithmic"), (str(-(2**53)), "0", "Linear")],
)  # fmt: skip
@settings(max_examples=300)
@given(u=any_float)
def test_integers_are_plain_decimal_strings_in_range(
    lo: str, hi: str, scaling: str, u: float
) -> None:
    s = one_integer(lo, hi, scaling)
    config = s.from_unit([u])
    text = config["n"]
    assert text == str(int(text))  # "3", never "3.0" or "+3"
    assert int(lo) <= int(text) <= int(hi)
    assert s.from_unit(s.to_unit(config)) == config


def test_linear_integer_gives_every_value_an_equal_share() -> None:
    s = one_integer("0", "3")
    us = np.linspace(0.0, 1.0, 4001)
    counts = {k: 0 for k in range(4)}
    for u in us:
        counts[int(s.from_unit([u])["n"])] += 1
    assert all(abs(c - 1000) <= 2 for c in counts.values()), counts
    assert [s.to_unit({"n": str(k)})[0] for k in range(4)] == [0.125, 0.375, 0.625, 0.875]


def test_log_integer_gives_each_value_its_log_share() -> None:
    s = one_integer("1", "100", "Logarithmic")
    width = math.log(100.5) - math.log(0.5)
    # value 1 owns [log 0.5, log 1.5]; value 100 owns [log 99.5, log 100.5]
    assert s.from_unit([math.log(3) / width - 1e-9])["n"] == "1"
    assert s.from_unit([math.log(3) / width + 1e-9])["n"] == "2"
    u1 = s.to_unit({"n": "1"})[0]
    assert u1 == pytest.approx(0.5 * math.log(3) / width)
    assert s.from_unit([1.0])["n"] == "100"
    assert s.from_unit([1.0 - 1e-12])["n"] == "100"


def test_every_integer_is_reachable_and_round_trips() -> None:
    for scaling in ("Linear", "Logarithmic"):
        s = one_integer("1", "300", scaling)
        for k in range(1, 301):
            u = s.to_unit({"n": str(k)})
            assert s.from_unit(u) == {"n": str(k)}


def test_integer_to_unit_rejects_floats_and_out_of_range() -> None:
    s = one_integer("1", "10")
    for bad in ("2.5", "abc", "0", "11", ""):
        with pytest.raises(ValueError):
            s.to_unit({"n": bad})
    assert not s.contains({"n": "11"})
    assert s.contains({"n": "10", "other": "ignored"})


# ---------------------------------------------------------------------------- categorical


def test_categorical_bins_and_centres() -> None:
    s = space(CategoricalParameterRanges=[{"Name": "c", "Values": ["b", "a", " x "]}])
    assert [s.from_unit([u])["c"] for u in (0.0, 0.33, 0.34, 0.66, 0.67, 1.0)] == [
        "b", "b", "a", "a", " x ", " x "
    ]  # fmt: skip
    assert s.to_unit({"c": "a"})[0] == pytest.approx(0.5)
    assert s.to_unit({"c": " x "})[0] == pytest.approx(5 / 6)
    with pytest.raises(ValueError):
        s.to_unit({"c": "x"})


# ---------------------------------------------------------------------------- mixed spaces


MIXED = space(
    IntegerParameterRanges=[cont("layers", "1", "8"), cont("units", "16", "4096", "Logarithmic")],
    ContinuousParameterRanges=[
        cont("lr", "1e-6", "1", "Logarithmic"),
        cont("momentum", "0.5", "0.9999", "ReverseLogarithmic"),
        cont("dropout", "0", "0.5"),
    ],
    CategoricalParameterRanges=[{"Name": "opt", "Values": ["adam", "sgd", "rmsprop"]}],
)


@settings(max_examples=500)
@given(u=st.lists(any_float, min_size=6, max_size=6))
def test_mixed_space_always_decodes_to_a_valid_config(u: list[float]) -> None:
    config = MIXED.from_unit(np.array(u))
    assert set(config) == set(MIXED.names)
    assert MIXED.contains(config)
    point = MIXED.to_unit(config)
    assert point.shape == (6,)
    assert ((point >= 0.0) & (point <= 1.0)).all()
    assert MIXED.from_unit(point) == config
    assert np.array_equal(MIXED.snap(point), point)


def test_snap_moves_discrete_coordinates_to_bin_centres() -> None:
    u = np.array([0.01, 0.5, 0.3, 0.3, 0.3, 0.99])
    snapped = MIXED.snap(u)
    assert snapped[0] == pytest.approx(1 / 16)
    assert snapped[5] == pytest.approx(5 / 6)
    assert snapped[2] == pytest.approx(0.3)


def test_from_unit_rejects_bad_shapes_and_nan() -> None:
    with pytest.raises(ValueError):
        MIXED.from_unit(np.zeros(5))
    with pytest.raises(ValueError):
        MIXED.from_unit(np.full(6, np.nan))


def test_to_unit_requires_every_name() -> None:
    config = MIXED.from_unit(np.full(6, 0.5))
    del config["lr"]
    with pytest.raises(ValueError):
        MIXED.to_unit(config)


def test_sizes_report_discrete_counts() -> None:
    assert MIXED.sizes == (8, 4081, None, None, None, 3)


# ---------------------------------------------------------------------------- cardinality / grid


def test_cardinality_is_the_product_of_discrete_sizes() -> None:
    s = space(
        IntegerParameterRanges=[cont("a", "1", "3"), cont("b", "-2", "2")],
        CategoricalParameterRanges=[{"Name": "c", "Values": ["x", "y"]}],
    )
    assert s.cardinality() == 3 * 5 * 2
    assert MIXED.cardinality() is None
    assert space().cardinality() == 1


def test_grid_lists_every_combination_once_in_order() -> None:
    s = space(
        IntegerParameterRanges=[cont("a", "1", "2")],
        CategoricalParameterRanges=[{"Name": "c", "Values": ["x", "y", "z"]}],
    )
    grid = s.grid()
    assert grid == [
        {"a": "1", "c": "x"}, {"a": "1", "c": "y"}, {"a": "1", "c": "z"},
        {"a": "2", "c": "x"}, {"a": "2", "c": "y"}, {"a": "2", "c": "z"},
    ]  # fmt: skip
    assert [s.rank(c) for c in grid] == list(range(6))
    assert [s.unrank(i) for i in range(6)] == grid
    assert s.grid() == grid  # deterministic


@settings(max_examples=50)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4),
    data=st.data(),
)
def test_grid_size_matches_cardinality(sizes: list[int], data: st.DataObject) -> None:
    cats = [{"Name": f"c{i}", "Values": [f"v{j}" for j in range(n)]} for i, n in enumerate(sizes)]
    ints = data.draw(st.lists(st.integers(min_value=1, max_value=3), max_size=2))
    s = space(
        CategoricalParameterRanges=cats,
        IntegerParameterRanges=[cont(f"i{k}", "0", str(n - 1)) for k, n in enumerate(ints)],
    )
    grid = s.grid()
    assert len(grid) == s.cardinality() == math.prod(sizes) * math.prod(ints)
    assert len({tuple(sorted(c.items())) for c in grid}) == len(grid)
    assert all(s.contains(c) for c in grid)


def test_grid_refuses_continuous_spaces() -> None:
    with pytest.raises(ValueError):
        MIXED.grid()
    with pytest.raises(ValueError):
        MIXED.rank(MIXED.from_unit(np.zeros(6)))


def test_unrank_rejects_out_of_range_indices() -> None:
    s = one_integer("1", "3")
    with pytest.raises(ValueError):
        s.unrank(3)
    with pytest.raises(ValueError):
        s.unrank(-1)
