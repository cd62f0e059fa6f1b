"""Metric values found in a script's output by the MetricDefinitions regexes."""

from __future__ import annotations

import pytest

from amtune.worker.metrics import (
    MetricParser,
    compile_definitions,
    definitions_of_tuning_job,
)


def parser(*definitions: tuple[str, str]) -> MetricParser:
    return MetricParser(compile_definitions({"Name": n, "Regex": r} for n, r in definitions))


def test_each_line_yields_the_first_group_of_each_definition() -> None:
    p = parser(("acc", r"validation:accuracy=([0-9.]+)"), ("loss", r"loss: ([-0-9.e]+)"))
    assert p.feed("nothing here") == []
    found = p.feed("epoch 1 loss: 1.5e-01 validation:accuracy=0.91")
    assert [(m.name, m.value, m.step) for m in found] == [("acc", 0.91, 1), ("loss", 0.15, 1)]
    p.feed("epoch 2 validation:accuracy=0.95")
    # The objective is the latest value; steps count occurrences per metric.
    assert p.last["acc"].value == 0.95 and p.last["acc"].step == 2
    assert p.last["loss"].step == 1
    assert {m.name: m.value for m in p.final()} == {"acc": 0.95, "loss": 0.15}


def test_values_that_are_not_finite_numbers_are_skipped() -> None:
    p = parser(("acc", r"acc=(\S+)"))
    assert p.feed("acc=nan") == []
    assert p.feed("acc=inf") == []
    assert p.feed("acc=n/a") == []
    assert [m.value for m in p.feed("acc=0.5")] == [0.5]


def test_a_regex_without_group_uses_the_whole_match() -> None:
    p = parser(("n", r"(?<=n=)\d+"))
    assert [m.value for m in p.feed("n=42")] == [42.0]


def test_bad_regex_is_reported_with_its_name() -> None:
    with pytest.raises(ValueError, match="'broken'"):
        compile_definitions([{"Name": "broken", "Regex": "([0-9"}])


def test_definitions_come_from_every_training_job_definition() -> None:
    described = {
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"MetricDefinitions": [{"Name": "a", "Regex": "a=(.*)"}]}
        },
        "TrainingJobDefinitions": [
            {"AlgorithmSpecification": {"MetricDefinitions": [{"Name": "b", "Regex": "b=(.*)"}]}}
        ],
    }
    names = [d["Name"] for d in definitions_of_tuning_job(described)]
    assert names == ["a", "b"]
