"""The pure stopping rules: AMT's median rule and ASHA's rung rule."""

from __future__ import annotations

import pytest

from amtune.engine.stopping import (
    asha_stops,
    hyperband_bracket,
    hyperband_stops,
    median_rule_stops,
    rung_levels,
    value_at,
)


def flat(value: float, steps: int) -> list[tuple[float, float]]:
    return [(float(s), value) for s in range(1, steps + 1)]


def test_rungs_grow_by_eta_and_end_at_the_maximum() -> None:
    assert rung_levels(1, 20) == (1.0, 3.0, 9.0, 20.0)
    assert rung_levels(1, 27) == (1.0, 3.0, 9.0, 27.0)
    assert rung_levels(2, 100, eta=2) == (2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 100.0)
    assert rung_levels(5, 5) == (5.0,)
    with pytest.raises(ValueError):
        rung_levels(10, 5)


def test_median_rule_stops_a_job_worse_than_the_median_of_running_averages() -> None:
    others = [flat(1.0, 5), flat(2.0, 5), flat(3.0, 5)]
    assert median_rule_stops(flat(2.5, 3), others, min_others=3)
    assert not median_rule_stops(flat(2.0, 3), others, min_others=3)  # equal: continue


def test_median_rule_uses_running_averages_not_current_values() -> None:
    # Each earlier job improves from 10 to 1 by step 3: running average at 3 is (10+5+1)/3 = 16/3.
    improving = [(1.0, 10.0), (2.0, 5.0), (3.0, 1.0)]
    others = [improving, improving, improving]
    # 4.0 is worse than every other job's current value (1.0) but better than their average.
    assert not median_rule_stops([(1.0, 9.0), (2.0, 6.0), (3.0, 4.0)], others, min_others=3)
    assert median_rule_stops([(1.0, 9.0), (2.0, 6.0), (3.0, 6.0)], others, min_others=3)


def test_median_rule_needs_min_others_that_reached_the_step() -> None:
    others = [flat(1.0, 5), flat(1.0, 5), flat(1.0, 2)]  # the third stopped at step 2
    assert not median_rule_stops(flat(9.0, 3), others, min_others=3)
    assert median_rule_stops(flat(9.0, 3), others, min_others=2)
    assert median_rule_stops(flat(9.0, 2), others, min_others=3)


def test_median_rule_never_stops_the_best_so_far() -> None:
    # Others started terribly and are now at 1.0: median of averages is low, but 0.5 leads.
    others = [[(1.0, 100.0), (2.0, 1.0)]] * 3
    assert not median_rule_stops([(1.0, 0.5), (2.0, 0.5)], others, min_others=3)


def test_median_rule_judges_nobody_before_a_fraction_of_the_longest_earlier_curve() -> None:
    others = [flat(1.0, 20), flat(1.0, 20), flat(1.0, 10)]  # the longest reached step 20
    bad = flat(9.0, 3)
    # a tenth of 20 is step 2: the value at step 1 is not judged, the one at step 2 is
    assert not median_rule_stops(bad[:1], others, min_others=3, min_progress=0.1)
    assert median_rule_stops(bad[:2], others, min_others=3, min_progress=0.1)
    assert median_rule_stops(bad[:1], others, min_others=3)  # no minimum progress: judged


def test_value_at_takes_the_last_point_at_or_before_the_step() -> None:
    curve = [(2.0, 5.0), (4.0, 3.0)]
    assert value_at(curve, 1.0) is None
    assert value_at(curve, 3.0) == 5.0
    assert value_at(curve, 4.0) == 3.0


RUNGS = rung_levels(1, 9)  # (1, 3, 9)


def test_asha_first_job_at_a_rung_continues_and_top_rung_stops() -> None:
    assert not asha_stops(flat(5.0, 1), [], rungs=RUNGS, eta=3)
    assert not asha_stops(flat(5.0, 2), [], rungs=RUNGS, eta=3)  # between rungs
    assert asha_stops(flat(5.0, 9), [], rungs=RUNGS, eta=3)


def test_asha_keeps_the_top_third_at_a_rung() -> None:
    others = [flat(v, 1) for v in (1.0, 2.0, 3.0, 4.0, 5.0)]
    # n = 6 at rung 1, keep ranks <= 2
    assert not asha_stops(flat(1.5, 1), others, rungs=RUNGS, eta=3)  # rank 2
    assert asha_stops(flat(2.5, 1), others, rungs=RUNGS, eta=3)  # rank 3
    assert not asha_stops(flat(0.5, 1), others, rungs=RUNGS, eta=3)  # best


def test_asha_judges_only_the_report_that_crosses_a_rung() -> None:
    others = [flat(1.0, 9)] * 5
    # Already past rung 1 and not yet at 3: no decision even though it is the worst.
    assert not asha_stops(flat(9.0, 2), others, rungs=RUNGS, eta=3)
    # Reporting every 2 steps: step 4 crosses rung 3 and is judged there.
    assert asha_stops([(2.0, 9.0), (4.0, 9.0)], others, rungs=RUNGS, eta=3)


def test_asha_grace_period_lets_early_jobs_pass() -> None:
    others = [flat(1.0, 1)]
    assert asha_stops(flat(2.0, 1), others, rungs=RUNGS, eta=3)
    assert not asha_stops(flat(2.0, 1), others, rungs=RUNGS, eta=3, min_at_rung=3)


def test_brackets_are_drawn_from_the_ordinal_in_equal_shares() -> None:
    draws = [hyperband_bracket(index, 4) for index in range(400)]
    assert draws == [hyperband_bracket(index, 4) for index in range(400)]  # no randomness
    assert draws[0] == 0
    for bracket in range(4):
        assert 95 <= draws.count(bracket) <= 105
        # every run of 8 consecutive jobs meets every bracket
        assert all(bracket in draws[start : start + 8] for start in range(0, 392))
    # two definitions taking turns each still see every bracket
    assert set(draws[0::2]) == set(draws[1::2]) == {0, 1, 2, 3}
    assert {hyperband_bracket(index, 1) for index in range(20)} == {0}


def index_in(bracket: int, brackets: int) -> int:
    return next(i for i in range(100) if hyperband_bracket(i, brackets) == bracket)


def test_hyperband_judges_a_job_only_from_its_brackets_first_rung() -> None:
    rungs = rung_levels(1, 27)  # (1, 3, 9, 27): brackets start at 1, 3, 9 and 27
    leaders = [flat(1.0, 27)] * 8
    worst = 9.0
    for bracket, first_rung in enumerate(rungs):
        index = index_in(bracket, 4)
        for step in range(1, 27):
            stops = hyperband_stops(
                flat(worst, step), index, leaders, rungs=rungs, eta=3, min_at_rung=3
            )
            # the worst of nine is stopped at its bracket's rungs, never before the first
            assert stops == (step >= first_rung and step in rungs), (bracket, step)
        # every bracket ends at the top rung
        assert hyperband_stops(flat(worst, 27), index, leaders, rungs=rungs, eta=3)


def test_hyperband_ranks_a_job_against_every_job_that_reached_the_rung() -> None:
    rungs = rung_levels(1, 9)  # (1, 3, 9): three brackets
    late = index_in(1, 3)  # first judged at rung 3
    # Five jobs reached rung 3 (whatever their brackets: the job's number alone decides its own).
    others = [flat(v, 3) for v in (1.0, 2.0, 9.0, 9.0, 9.0)]
    assert hyperband_stops(flat(5.0, 3), late, others, rungs=rungs, eta=3)  # rank 3 of 6
    assert not hyperband_stops(flat(1.5, 3), late, others, rungs=rungs, eta=3)  # rank 2 of 6
