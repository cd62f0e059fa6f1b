"""Metric values out of a training script's output, the way AMT finds them.

AMT applies every ``MetricDefinitions[].Regex`` of the training job to each line the container
prints (stdout and stderr) and takes the first capture group of the first match as the value;
the objective is the latest value of the definition named like the tuning objective. A
definition without a group uses the whole match. Values that do not parse as a finite number
are skipped, never sent (the service rejects NaN and infinities).

The n-th value of a metric in a job is sent with ``Step`` n (1-based), which is what per-epoch
printing means and what early stopping compares across jobs.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from amtune.sdk.protocol import Metric


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    pattern: re.Pattern[str]


def compile_definitions(definitions: Iterable[Mapping[str, Any]]) -> list[MetricDefinition]:
    """Compile AWS ``MetricDefinitions``; a regex Python cannot compile is an error to show."""
    compiled: list[MetricDefinition] = []
    seen: set[str] = set()
    for entry in definitions:
        name = str(entry["Name"])
        if name in seen:
            continue
        seen.add(name)
        try:
            compiled.append(MetricDefinition(name, re.compile(str(entry["Regex"]))))
        except re.error as exc:
            raise ValueError(
                f"MetricDefinitions regex for {name!r} does not compile: {exc}"
            ) from exc
    return compiled


def definitions_of_tuning_job(description: Mapping[str, Any]) -> list[dict[str, Any]]:
    """MetricDefinitions from every training-job definition of a Describe answer."""
    found: list[dict[str, Any]] = []
    definitions = [description.get("TrainingJobDefinition") or {}]
    definitions += list(description.get("TrainingJobDefinitions") or [])
    for definition in definitions:
        spec = definition.get("AlgorithmSpecification") or {}
        found.extend(spec.get("MetricDefinitions") or [])
    return found


def parse_number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class MetricParser:
    """Stateful per job: counts occurrences (for ``Step``) and keeps each metric's last value."""

    def __init__(self, definitions: Sequence[MetricDefinition]) -> None:
        self.definitions = list(definitions)
        self.counts: dict[str, int] = {}
        self.last: dict[str, Metric] = {}

    def feed(self, line: str, now: dt.datetime | None = None) -> list[Metric]:
        """The metric values found in one line of output."""
        found: list[Metric] = []
        moment = now or dt.datetime.now(dt.UTC)
        for definition in self.definitions:
            match = definition.pattern.search(line)
            if match is None:
                continue
            text = match.group(1) if definition.pattern.groups else match.group(0)
            value = parse_number(text) if text is not None else None
            if value is None:
                continue
            step = self.counts.get(definition.name, 0) + 1
            self.counts[definition.name] = step
            metric = Metric(definition.name, value, moment, step)
            self.last[definition.name] = metric
            found.append(metric)
        return found

    def final(self) -> list[Metric]:
        return list(self.last.values())
