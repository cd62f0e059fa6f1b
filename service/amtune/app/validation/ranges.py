"""Rules on ``ParameterRanges`` that the shape cannot express.

Range bounds travel as strings; they must parse as numbers before the engine builds a
``SearchSpace`` from them, so the engine never sees a range it would misread. Numbers follow
JSON/Java syntax (``1``, ``-0.5``, ``1e-4``); Python-only spellings such as ``1_000``,
``inf`` or surrounding spaces are refused. Integer bounds are Java ``int`` values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from amtune.app.domain import OBJECTIVE_METRIC_KEY, RESERVED_PREFIX, is_reserved_name
from amtune.app.validation.semantic import as_list, reject
from amtune.app.validation.shapes import JAVA_INT_MAX, JAVA_INT_MIN, element_path

MAX_TUNED_RANGES = 30
"""Integer + Continuous + Categorical ranges per tuning job (or per definition)."""

RANGE_LISTS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _camel(member: str) -> str:
    return member[:1].lower() + member[1:]


def _scaling(spec: Mapping[str, Any]) -> str:
    value = spec.get("ScalingType")
    return value if isinstance(value, str) else "Auto"


def _parse_integer(text: str, path: str, name: str) -> int:
    if not _INTEGER.fullmatch(text):
        reject(
            f"The value '{text}' at '{path}' of IntegerParameterRange '{name}' is not an "
            "integer. Provide a whole number such as '10'."
        )
    value = int(text)
    if not JAVA_INT_MIN <= value <= JAVA_INT_MAX:
        reject(
            f"The value '{text}' at '{path}' of IntegerParameterRange '{name}' is out of range. "
            f"Provide an integer between {JAVA_INT_MIN} and {JAVA_INT_MAX}."
        )
    return value


def _parse_decimal(text: str, path: str, name: str) -> float:
    value = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not math.isfinite(value):
        reject(
            f"The value '{text}' at '{path}' of ContinuousParameterRange '{name}' is not a "
            "finite number. Provide a decimal number such as '0.01' or '1e-4'."
        )
    return value


def _check_order(low: float, high: float, path: str, name: str, kind: str) -> None:
    if low > high:
        reject(
            f"The MinValue of {kind} '{name}' at '{path}.minValue' is greater than its "
            f"MaxValue. Provide a MinValue less than or equal to the MaxValue."
        )


def _reject_logarithmic(spec: Mapping[str, Any], path: str, kind: str) -> None:
    reject(
        f"{kind} '{spec['Name']}' at '{path}.scalingType' uses Logarithmic scaling, which "
        f"requires values greater than 0, but MinValue at '{path}.minValue' is "
        f"'{spec['MinValue']}'. Provide a MinValue greater than 0 or choose Linear scaling."
    )


def _check_integer_range(spec: Mapping[str, Any], path: str) -> None:
    name = spec["Name"]
    kind = "IntegerParameterRange"
    low = _parse_integer(spec["MinValue"], f"{path}.minValue", name)
    high = _parse_integer(spec["MaxValue"], f"{path}.maxValue", name)
    _check_order(low, high, path, name, kind)
    scaling = _scaling(spec)
    if scaling == "Logarithmic" and low <= 0:
        _reject_logarithmic(spec, path, kind)
    if scaling == "ReverseLogarithmic":
        reject(
            f"{kind} '{name}' at '{path}.scalingType' uses ReverseLogarithmic scaling, which is "
            "only supported for ContinuousParameterRanges. Choose Auto, Linear or Logarithmic."
        )


def _check_continuous_range(spec: Mapping[str, Any], path: str) -> None:
    name = spec["Name"]
    kind = "ContinuousParameterRange"
    low = _parse_decimal(spec["MinValue"], f"{path}.minValue", name)
    high = _parse_decimal(spec["MaxValue"], f"{path}.maxValue", name)
    _check_order(low, high, path, name, kind)
    scaling = _scaling(spec)
    if scaling == "Logarithmic" and low <= 0:
        _reject_logarithmic(spec, path, kind)
    if scaling == "ReverseLogarithmic" and not (low >= 0 and high < 1):
        reject(
            f"{kind} '{name}' at '{path}.scalingType' uses ReverseLogarithmic scaling, which "
            f"requires 0 <= MinValue <= MaxValue < 1, but the range is [{spec['MinValue']}, "
            f"{spec['MaxValue']}]. Provide values in [0, 1) or choose another scaling."
        )
    if not math.isfinite(high - low):
        reject(
            f"{kind} '{name}' at '{path}' is too wide to sample: MaxValue - MinValue overflows. "
            "Narrow the range."
        )


def _check_categorical_range(spec: Mapping[str, Any], path: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(spec["Values"]):
        if value in seen:
            reject(
                f"CategoricalParameterRange '{spec['Name']}' lists the value '{value}' more than "
                f"once (at '{element_path(path + '.values', index)}'). Provide distinct values."
            )
        seen.add(value)


def tuned_names(ranges: Mapping[str, Any], *, with_auto: bool = True) -> list[str]:
    """Names of every tuned hyperparameter, in request order (shape already validated)."""
    lists = (*RANGE_LISTS, "AutoParameters") if with_auto else RANGE_LISTS
    return [spec["Name"] for member in lists for spec in as_list(ranges, member)]


def check_parameter_ranges(ranges: Mapping[str, Any], path: str, *, autotune: bool) -> None:
    """Validate one ``ParameterRanges`` object found at ``path`` (shape already validated)."""
    checkers = {
        "IntegerParameterRanges": _check_integer_range,
        "ContinuousParameterRanges": _check_continuous_range,
        "CategoricalParameterRanges": _check_categorical_range,
    }
    seen: dict[str, str] = {}
    for member in (*RANGE_LISTS, "AutoParameters"):
        for index, spec in enumerate(as_list(ranges, member)):
            spec_path = element_path(f"{path}.{_camel(member)}", index)
            name = spec["Name"]
            if name == "":
                reject(f"The hyperparameter name at '{spec_path}.name' is empty. Provide a name.")
            if is_reserved_name(name):
                reject(
                    f"The hyperparameter name '{name}' at '{spec_path}.name' is reserved: "
                    f"{OBJECTIVE_METRIC_KEY} and names starting with '{RESERVED_PREFIX}' are set "
                    "by the service and the SageMaker toolkits, never tuned. Rename the range."
                )
            if name in seen:
                reject(
                    f"The hyperparameter '{name}' at '{spec_path}.name' is already tuned at "
                    f"'{seen[name]}.name'. Each hyperparameter can appear in only one range."
                )
            seen[name] = spec_path
            if member in checkers:
                checkers[member](spec, spec_path)

    tuned = len(tuned_names(ranges, with_auto=False))
    if tuned > MAX_TUNED_RANGES:
        reject(
            f"The ParameterRanges at '{path}' define {tuned} hyperparameter ranges; at most "
            f"{MAX_TUNED_RANGES} are allowed across IntegerParameterRanges, "
            "ContinuousParameterRanges and CategoricalParameterRanges. Remove ranges."
        )
    auto_parameters = as_list(ranges, "AutoParameters")
    if auto_parameters and not autotune:
        reject(
            f"AutoParameters at '{path}.autoParameters' are only allowed when Autotune is "
            "enabled. Set Autotune.Mode to Enabled or use the other range lists."
        )
    if tuned == 0 and not auto_parameters and not autotune:
        reject(
            f"No hyperparameter ranges are specified at '{path}'. Provide at least one "
            "IntegerParameterRange, ContinuousParameterRange or CategoricalParameterRange."
        )
