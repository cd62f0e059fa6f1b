"""Hyperparameters as training code wants them: typed values, reserved keys set apart.

A training job receives every hyperparameter as a string. The Python worker API hands them out
typed: when the tuning job's ParameterRanges are known (from Describe) a tuned value takes its
range's type exactly (IntegerParameterRanges -> int, ContinuousParameterRanges -> float,
CategoricalParameterRanges -> str, verbatim). Anything else (static hyperparameters, or when
Describe is unavailable) is guessed: an integer literal becomes int, a decimal or exponent
literal float, everything else stays a string ("adam", "true", "nan").

The SageMaker training toolkit's own rules (``json.loads`` each value, falling back to the raw
string) are kept separately for the ``amtune worker`` agent, which must set the environment that
unchanged SageMaker scripts expect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

HyperParameterValue = int | float | str

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")

#: Keys SageMaker passes alongside the user's hyperparameters but that are not theirs.
RESERVED_KEYS = frozenset(
    {
        "_tuning_objective_metric",
        "default_user_module_name",
    }
)


def is_reserved(key: str) -> bool:
    """The toolkit splits these off from user hyperparameters (``sagemaker_*`` included)."""
    return key in RESERVED_KEYS or key.startswith("sagemaker_")


def guess_type(value: str) -> HyperParameterValue:
    """int if an integer literal, float if a decimal/exponent literal, else the string."""
    text = value.strip()
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    return value


def range_types(parameter_ranges: Mapping[str, Any] | None) -> dict[str, type]:
    """Name -> Python type from an AWS ``ParameterRanges`` dict."""
    types: dict[str, type] = {}
    if not parameter_ranges:
        return types
    for key, kind in (
        ("IntegerParameterRanges", int),
        ("ContinuousParameterRanges", float),
        ("CategoricalParameterRanges", str),
    ):
        for entry in parameter_ranges.get(key) or []:
            name = entry.get("Name")
            if isinstance(name, str):
                types[name] = kind
    return types


def ranges_of_tuning_job(description: Mapping[str, Any]) -> dict[str, type]:
    """Types of every tuned hyperparameter in a DescribeHyperParameterTuningJob answer."""
    types = range_types(description.get("HyperParameterTuningJobConfig", {}).get("ParameterRanges"))
    for definition in description.get("TrainingJobDefinitions") or []:
        types.update(range_types(definition.get("HyperParameterRanges")))
    return types


def decode(
    hyperparameters: Mapping[str, str], types: Mapping[str, type] | None = None
) -> dict[str, HyperParameterValue]:
    """User hyperparameters, typed; reserved keys are left out."""
    known = types or {}
    decoded: dict[str, HyperParameterValue] = {}
    for key, raw in hyperparameters.items():
        if is_reserved(key):
            continue
        decoded[key] = _convert(raw, known.get(key))
    return decoded


def _convert(raw: str, kind: type | None) -> HyperParameterValue:
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            number = float(raw)  # "3.0" from a sloppy client is still the integer 3
            return int(number) if number.is_integer() else number
    if kind is float:
        return float(raw)
    if kind is str:
        return raw
    return guess_type(raw)


# --- the SageMaker training toolkit's view, for unchanged scripts -------------------------------


def toolkit_value(raw: str) -> Any:
    """The toolkit decodes each value with ``json.loads``, falling back to the raw string."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def toolkit_user_hyperparameters(hyperparameters: Mapping[str, str]) -> dict[str, Any]:
    """What ``SM_HPS`` holds: decoded user hyperparameters, reserved keys split off."""
    return {k: toolkit_value(v) for k, v in hyperparameters.items() if not is_reserved(k)}


def toolkit_env_value(value: Any) -> str:
    """``SM_HP_<NAME>``: strings as they are, anything else compact JSON with sorted keys."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def toolkit_args(hyperparameters: Mapping[str, Any]) -> list[str]:
    """``--name value`` for each user hyperparameter, sorted by name."""
    args: list[str] = []
    for key in sorted(hyperparameters):
        args.extend([f"--{key}", toolkit_env_value(hyperparameters[key])])
    return args


def sorted_items(hyperparameters: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    return sorted(hyperparameters.items())
