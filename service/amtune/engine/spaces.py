"""Search spaces: AMT parameter ranges <-> the unit hypercube <-> the strings a job receives.

Every strategy works on ``[0, 1]^dim`` (one coordinate per range) and only this module knows how a
coordinate becomes the exact string a training job sees. Keeping the mapping here means Random,
Grid and Bayesian agree on what "uniform", "log scale" and "the same config" mean.

Encoding (AMT semantics):

* Continuous ``Linear``: ``u = (x - lo) / (hi - lo)``.
* Continuous ``Logarithmic``: ``u = (log x - log lo) / (log hi - log lo)``.
* Continuous ``ReverseLogarithmic``:
  ``u = 1 - (log(1-x) - log(1-hi)) / (log(1-lo) - log(1-hi))`` (computed with ``log1p``).
* Integer ``Linear`` / ``Logarithmic``: continuous relaxation of ``[lo - 0.5, hi + 0.5]`` on the
  same scale, rounded to the nearest integer. Under ``Linear`` every integer therefore owns an
  equal ``1/n`` slice of the unit interval; under ``Logarithmic`` integer ``k`` owns the slice
  ``[log(k - 0.5), log(k + 0.5)]`` of log space, so small values are not starved and the end
  points get the same treatment as interior points. ``to_unit`` returns the centre of the slice.
  AMT documents no ``ReverseLogarithmic`` for integers, so it is rejected.
* Categorical: ``m`` equal-width bins in list order; ``to_unit`` returns the bin centre.

Decoding guarantees: ``from_unit`` clips ``u`` into ``[0, 1]``; integers come out as plain
decimal strings (``"3"``), categoricals verbatim, continuous values as ``repr(float)`` (shortest
round-trip form) clipped into ``[lo, hi]``, with ``u = 0`` and ``u = 1`` giving the bounds exactly.
``to_unit`` searches the few neighbouring floats of the analytic coordinate so that
``from_unit(to_unit(c)) == c`` holds exactly for every config ``from_unit`` can produce; for any
other valid config the pair is idempotent after one round.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

Config: TypeAlias = dict[str, str]
"""Hyperparameter name -> the exact string a training job receives."""

Scaling = Literal["Linear", "Logarithmic", "ReverseLogarithmic"]
Kind = Literal["continuous", "integer", "categorical"]
UnitVector: TypeAlias = npt.NDArray[np.float64]

MAX_EXACT_INT = 2**53
"""Integer bounds must lie within +-2**53 so every value is exact as a float too."""

_INT_PATTERN = re.compile(r"[+-]?\d+")
_SCALINGS: dict[str, Scaling] = {
    "Auto": "Linear",
    "Linear": "Linear",
    "Logarithmic": "Logarithmic",
    "ReverseLogarithmic": "ReverseLogarithmic",
}


def _clip_unit(u: float) -> float:
    return 0.0 if u <= 0.0 else 1.0 if u >= 1.0 else u


def _bin_index(u: float, size: int) -> int:
    """Index of the equal-width bin of ``[0, 1]`` holding ``u`` (``u = 1`` -> last bin)."""
    return min(int(_clip_unit(u) * size), size - 1)


def _preimage(decode: Callable[[float], float], target: float, guess: float) -> float:
    """A ``u`` in ``[0, 1]`` with ``decode(u) == target``, searched outward from ``guess``.

    ``decode`` must be monotone non-decreasing. Floating-point round-off means the analytic
    inverse can land a few ulps off the ``u`` that decodes back to the same value; a galloping
    search plus bisection fixes that. If no ``u`` decodes exactly to ``target`` (a value the
    decoder never produces), the ``u`` whose decoded value is nearest is returned.
    """
    u = _clip_unit(guess)
    got = decode(u)
    if got == target:
        return u
    rising = got < target
    step = max(math.ulp(u), 2.0**-1074)
    near, far = u, u
    while True:  # gallop until the target lies between `near` and `far`
        far = _clip_unit(u + step if rising else u - step)
        value = decode(far)
        if value == target:
            return far
        if (value > target) == rising or far in (0.0, 1.0):
            break
        near, step = far, step * 2.0
    lo, hi = (near, far) if rising else (far, near)
    while True:  # bisect; decode(lo) < target < decode(hi) unless the bracket hit an end
        mid = lo + (hi - lo) / 2.0
        if mid in (lo, hi):
            break
        value = decode(mid)
        if value == target:
            return mid
        if value < target:
            lo = mid
        else:
            hi = mid
    return min((lo, hi), key=lambda c: abs(decode(c) - target))


def _parse_float(text: Any, what: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what}: {text!r} is not a finite number")
    return value + 0.0  # normalise -0.0 so it never prints as "-0.0"


def _parse_int(text: Any, what: str) -> int:
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise ValueError(f"{what}: {text!r} is not an integer")
    if isinstance(text, str) and not _INT_PATTERN.fullmatch(text.strip()):
        raise ValueError(f"{what}: {text!r} is not an integer")
    value = int(text)
    if abs(value) > MAX_EXACT_INT:
        raise ValueError(f"{what}: {value} is outside +-2**53")
    return value


def _parse_scaling(raw: Any, name: str) -> Scaling:
    if raw is None:
        return "Linear"
    if not isinstance(raw, str) or raw not in _SCALINGS:
        raise ValueError(f"{name}: unknown ScalingType {raw!r}")
    return _SCALINGS[raw]


@dataclass(frozen=True)
class ContinuousRange:
    """A real-valued hyperparameter in ``[low, high]``."""

    name: str
    low: float
    high: float
    scaling: Scaling

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError(f"{self.name}: bounds must be finite")
        if self.low > self.high:
            raise ValueError(f"{self.name}: MinValue {self.low} > MaxValue {self.high}")
        if self.scaling == "Linear" and not math.isfinite(self.high - self.low):
            raise ValueError(f"{self.name}: range too wide for Linear scaling")
        if self.scaling == "Logarithmic" and self.low <= 0.0:
            raise ValueError(f"{self.name}: Logarithmic scaling needs MinValue > 0")
        if self.scaling == "ReverseLogarithmic" and not (self.low >= 0.0 and self.high < 1.0):
            raise ValueError(f"{self.name}: ReverseLogarithmic scaling needs 0 <= values < 1")

    def value_at(self, u: float) -> float:
        """Decode a unit coordinate to a float in ``[low, high]`` (monotone in ``u``)."""
        lo, hi = self.low, self.high
        if u <= 0.0 or lo == hi:
            return lo
        if u >= 1.0:
            return hi
        if self.scaling == "Linear":
            x = lo + u * (hi - lo)
        elif self.scaling == "Logarithmic":
            a, b = math.log(lo), math.log(hi)
            x = math.exp(a + u * (b - a))
        else:
            a, b = math.log1p(-hi), math.log1p(-lo)  # a < b <= 0
            x = -math.expm1(b - u * (b - a))  # not a + (1-u)(b-a): keeps tiny u exact
        return min(max(x, lo), hi) + 0.0

    def unit_of(self, x: float) -> float:
        """The analytic unit coordinate of ``x`` (before the exact-round-trip correction)."""
        lo, hi = self.low, self.high
        if lo == hi:
            return 0.5
        if self.scaling == "Linear":
            u = (x - lo) / (hi - lo)
        elif self.scaling == "Logarithmic":
            u = (math.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo))
        else:
            a, b = math.log1p(-hi), math.log1p(-lo)
            u = (b - math.log1p(-x)) / (b - a)
        return _clip_unit(u)

    def decode(self, u: float) -> str:
        return repr(self.value_at(u))

    def encode(self, text: str) -> float:
        x = _parse_float(text, self.name)
        if not self.low <= x <= self.high:
            raise ValueError(f"{self.name}: {text!r} is outside [{self.low}, {self.high}]")
        if self.low == self.high:
            return 0.5
        return _preimage(self.value_at, x, self.unit_of(x))


@dataclass(frozen=True)
class IntegerRange:
    """An integer hyperparameter in ``[low, high]`` (both included)."""

    name: str
    low: int
    high: int
    scaling: Scaling

    def __post_init__(self) -> None:
        if max(abs(self.low), abs(self.high)) > MAX_EXACT_INT:
            raise ValueError(f"{self.name}: integer bounds must lie within +-2**53")
        if self.low > self.high:
            raise ValueError(f"{self.name}: MinValue {self.low} > MaxValue {self.high}")
        if self.scaling == "Logarithmic" and self.low <= 0:
            raise ValueError(f"{self.name}: Logarithmic scaling needs MinValue > 0")
        if self.scaling == "ReverseLogarithmic":
            raise ValueError(f"{self.name}: ReverseLogarithmic is not supported for integers")

    @property
    def size(self) -> int:
        """Number of distinct values."""
        return self.high - self.low + 1

    def _log_bounds(self) -> tuple[float, float]:
        return math.log(self.low - 0.5), math.log(self.high + 0.5)

    def value_at(self, u: float) -> int:
        """Decode a unit coordinate to an integer in ``[low, high]`` (monotone in ``u``)."""
        if self.scaling == "Linear":
            return self.low + _bin_index(u, self.size)
        if u <= 0.0:
            return self.low
        if u >= 1.0:
            return self.high
        a, b = self._log_bounds()
        k = math.floor(math.exp(a + u * (b - a)) + 0.5)
        return min(max(k, self.low), self.high)

    def unit_of(self, k: int) -> float:
        """Centre of the slice of ``[0, 1]`` that decodes to ``k``."""
        if self.scaling == "Linear":
            return (k - self.low + 0.5) / self.size
        a, b = self._log_bounds()
        centre = 0.5 * (math.log(k - 0.5) + math.log(k + 0.5))
        return _clip_unit((centre - a) / (b - a))

    def decode(self, u: float) -> str:
        return str(self.value_at(u))

    def encode(self, text: str) -> float:
        k = _parse_int(text, self.name)
        if not self.low <= k <= self.high:
            raise ValueError(f"{self.name}: {text!r} is outside [{self.low}, {self.high}]")
        return _preimage(self.value_at, k, self.unit_of(k))


@dataclass(frozen=True)
class CategoricalRange:
    """A hyperparameter taking one of ``values`` (distinct strings, request order)."""

    name: str
    values: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError(f"{self.name}: a categorical range needs at least one value")
        if len(set(self.values)) != len(self.values):
            raise ValueError(f"{self.name}: categorical values must be distinct")

    @property
    def size(self) -> int:
        """Number of distinct values."""
        return len(self.values)

    def decode(self, u: float) -> str:
        return self.values[_bin_index(u, self.size)]

    def encode(self, text: str) -> float:
        try:
            index = self.values.index(text)
        except ValueError:
            raise ValueError(f"{self.name}: {text!r} is not one of {list(self.values)}") from None
        return (index + 0.5) / self.size


Range: TypeAlias = ContinuousRange | IntegerRange | CategoricalRange
DiscreteRange: TypeAlias = IntegerRange | CategoricalRange


def _discrete_value(rng: DiscreteRange, index: int) -> str:
    if isinstance(rng, IntegerRange):
        return str(rng.low + index)
    return rng.values[index]


def _discrete_index(rng: DiscreteRange, text: str) -> int:
    if isinstance(rng, IntegerRange):
        k = _parse_int(text, rng.name)
        if not rng.low <= k <= rng.high:
            raise ValueError(f"{rng.name}: {text!r} is outside [{rng.low}, {rng.high}]")
        return k - rng.low
    try:
        return rng.values.index(text)
    except ValueError:
        raise ValueError(f"{rng.name}: {text!r} is not one of {list(rng.values)}") from None


@dataclass(frozen=True)
class SearchSpace:
    """The tuned hyperparameters of a job: Integer, then Continuous, then Categorical ranges,
    each group in request order. One unit coordinate per range."""

    ranges: tuple[Range, ...]

    def __post_init__(self) -> None:
        names = [r.name for r in self.ranges]
        if len(set(names)) != len(names):
            raise ValueError("parameter names must be unique across all ranges")

    @classmethod
    def from_parameter_ranges(cls, parameter_ranges: Mapping[str, Any]) -> SearchSpace:
        """Build from the AWS ``ParameterRanges`` dict (values as strings, as on the wire).

        Request validation lives in ``app/validation``; this still raises ``ValueError`` on
        anything it cannot map (unknown scaling, bad numbers, empty or duplicate values), so
        the engine can never be handed a space it would silently misread. Keys other than the
        three range lists (e.g. ``AutoParameters``) are ignored.
        """
        ranges: list[Range] = []
        for spec in _range_list(parameter_ranges, "IntegerParameterRanges"):
            name = _range_name(spec)
            ranges.append(
                IntegerRange(
                    name=name,
                    low=_parse_int(spec.get("MinValue"), f"{name}.MinValue"),
                    high=_parse_int(spec.get("MaxValue"), f"{name}.MaxValue"),
                    scaling=_parse_scaling(spec.get("ScalingType"), name),
                )
            )
        for spec in _range_list(parameter_ranges, "ContinuousParameterRanges"):
            name = _range_name(spec)
            ranges.append(
                ContinuousRange(
                    name=name,
                    low=_parse_float(spec.get("MinValue"), f"{name}.MinValue"),
                    high=_parse_float(spec.get("MaxValue"), f"{name}.MaxValue"),
                    scaling=_parse_scaling(spec.get("ScalingType"), name),
                )
            )
        for spec in _range_list(parameter_ranges, "CategoricalParameterRanges"):
            name = _range_name(spec)
            values = spec.get("Values")
            if not isinstance(values, Sequence) or isinstance(values, str):
                raise ValueError(f"{name}: Values must be a list of strings")
            if not all(isinstance(v, str) for v in values):
                raise ValueError(f"{name}: Values must be a list of strings")
            ranges.append(CategoricalRange(name=name, values=tuple(values)))
        return cls(ranges=tuple(ranges))

    # ----------------------------------------------------------------- shape helpers
    @property
    def dim(self) -> int:
        """Number of unit coordinates (one per range)."""
        return len(self.ranges)

    @property
    def names(self) -> tuple[str, ...]:
        """Hyperparameter names in coordinate order."""
        return tuple(r.name for r in self.ranges)

    @cached_property
    def kinds(self) -> tuple[Kind, ...]:
        """Per coordinate: ``"continuous"``, ``"integer"`` or ``"categorical"``.

        A surrogate model needs this to treat coordinates differently (e.g. no distance
        between categorical bins)."""
        return tuple(_kind(r) for r in self.ranges)

    @cached_property
    def sizes(self) -> tuple[int | None, ...]:
        """Per coordinate: number of distinct values, ``None`` for continuous ranges.

        With :meth:`snap`, lets a model evaluate discrete coordinates only at the points that
        decode to distinct values."""
        return tuple(None if isinstance(r, ContinuousRange) else r.size for r in self.ranges)

    def cardinality(self) -> int | None:
        """Number of distinct configs; ``None`` if any range is continuous."""
        total = 1
        for size in self.sizes:
            if size is None:
                return None
            total *= size
        return total

    # ----------------------------------------------------------------- unit cube
    def to_unit(self, config: Mapping[str, str]) -> UnitVector:
        """Encode a config as a point of ``[0, 1]^dim``.

        Keys outside the space are ignored (a job's full hyperparameter map may be passed);
        a missing key or a value the range cannot hold raises ``ValueError``. Discrete values
        encode to the centre of their slice; continuous values to a point that decodes back
        to the same string when the string came from :meth:`from_unit`."""
        out = np.empty(self.dim, dtype=np.float64)
        for i, rng in enumerate(self.ranges):
            if rng.name not in config:
                raise ValueError(f"config has no value for {rng.name!r}")
            out[i] = rng.encode(config[rng.name])
        return out

    def from_unit(self, u: npt.ArrayLike) -> Config:
        """Decode a point (clipped into ``[0, 1]^dim``) to the strings training jobs receive."""
        point = np.asarray(u, dtype=np.float64)
        if point.shape != (self.dim,):
            raise ValueError(f"expected shape ({self.dim},), got {point.shape}")
        if np.isnan(point).any():
            raise ValueError("unit point contains NaN")
        return {
            rng.name: rng.decode(float(x))
            for rng, x in zip(self.ranges, point.tolist(), strict=True)
        }

    def snap(self, u: npt.ArrayLike) -> UnitVector:
        """``to_unit(from_unit(u))``: the canonical point of the config ``u`` decodes to.

        Discrete coordinates move to their slice centre; continuous ones stay (up to an ulp).
        Useful for a model to evaluate candidates exactly where they will be recorded."""
        return self.to_unit(self.from_unit(u))

    def contains(self, config: Mapping[str, str]) -> bool:
        """Whether :meth:`to_unit` accepts ``config`` (every range present and in range)."""
        try:
            self.to_unit(config)
        except ValueError:
            return False
        return True

    # ----------------------------------------------------------------- discrete spaces
    def _discrete_ranges(self) -> tuple[DiscreteRange, ...]:
        out: list[DiscreteRange] = []
        for rng in self.ranges:
            if isinstance(rng, ContinuousRange):
                raise ValueError(f"{rng.name} is continuous: the space has no finite grid")
            out.append(rng)
        return tuple(out)

    def rank(self, config: Mapping[str, str]) -> int:
        """Position of ``config`` in :meth:`grid` order (discrete spaces only).

        A compact identity for "already tried" bookkeeping; ``ValueError`` if the space has a
        continuous range or the config is not in the space."""
        index = 0
        for rng in self._discrete_ranges():
            if rng.name not in config:
                raise ValueError(f"config has no value for {rng.name!r}")
            index = index * rng.size + _discrete_index(rng, config[rng.name])
        return index

    def unrank(self, index: int) -> Config:
        """The config at position ``index`` of :meth:`grid` order (discrete spaces only)."""
        ranges = self._discrete_ranges()
        total = math.prod(r.size for r in ranges)
        if not 0 <= index < total:
            raise ValueError(f"index {index} outside [0, {total})")
        values: list[str] = []
        for rng in reversed(ranges):
            index, digit = divmod(index, rng.size)
            values.append(_discrete_value(rng, digit))
        return dict(zip((r.name for r in ranges), reversed(values), strict=True))

    def iter_grid(self) -> Iterator[Config]:
        """Lazily every config of a discrete space; the last range varies fastest."""
        ranges = self._discrete_ranges()
        columns = [[_discrete_value(r, i) for i in range(r.size)] for r in ranges]
        names = [r.name for r in ranges]
        for combo in itertools.product(*columns):
            yield dict(zip(names, combo, strict=True))

    def grid(self) -> list[Config]:
        """Every config of a discrete space in deterministic order (``ValueError`` otherwise).

        Order: ranges in space order, the last varying fastest; integers ascending,
        categoricals in request order. ``grid()[i] == unrank(i)``."""
        return list(self.iter_grid())


def _kind(rng: Range) -> Kind:
    if isinstance(rng, ContinuousRange):
        return "continuous"
    if isinstance(rng, IntegerRange):
        return "integer"
    return "categorical"


def _range_list(parameter_ranges: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    specs = parameter_ranges.get(key)
    if specs is None:
        return []
    if not isinstance(specs, Sequence) or isinstance(specs, str):
        raise ValueError(f"{key} must be a list")
    for spec in specs:
        if not isinstance(spec, Mapping):
            raise ValueError(f"{key} entries must be objects")
    return list(specs)


def _range_name(spec: Mapping[str, Any]) -> str:
    name = spec.get("Name")
    if not isinstance(name, str):
        raise ValueError(f"range without a string Name: {dict(spec)!r}")
    return name
