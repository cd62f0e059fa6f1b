"""The bridge between the search space's unit cube and the GP's feature space.

Unit space (``space.dim`` columns) is what :class:`~amtune.engine.spaces.SearchSpace` decodes;
feature space is what the kernel sees:

- continuous and integer coordinates: the unit coordinate itself (integers always *snapped* to
  the centre of their slice, so the GP only ever sees values that exist);
- a categorical with two values: one 0/1 column; with more values: one-hot columns (each with
  its own ARD lengthscale), so no artificial order is imposed on the values;
- a range with a single value carries no information and gets no column.

Numeric features come first and in unit-coordinate order, so the acquisition optimiser can move
them with gradients while categorical columns stay fixed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from amtune.engine.spaces import (
    CategoricalRange,
    Config,
    ContinuousRange,
    IntegerRange,
    SearchSpace,
)

from .kernel import FloatArray


class Encoder:
    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.names = space.names
        self.numeric = [
            i for i, r in enumerate(space.ranges) if not isinstance(r, CategoricalRange)
        ]
        self.integer = [i for i, r in enumerate(space.ranges) if isinstance(r, IntegerRange)]
        self.categorical = [
            i for i, r in enumerate(space.ranges) if isinstance(r, CategoricalRange)
        ]
        self.discrete = [
            i for i, r in enumerate(space.ranges) if not isinstance(r, ContinuousRange)
        ]
        self._cat_blocks: list[tuple[int, int, int]] = []  # (unit column, size, feature offset)
        offset = len(self.numeric)
        for i in self.categorical:
            size = space.ranges[i].size  # type: ignore[union-attr]
            width = 0 if size == 1 else 1 if size == 2 else size
            self._cat_blocks.append((i, size, offset))
            offset += width
        self.n_features = offset

    # ------------------------------------------------------------------ unit space
    def key(self, config: Config) -> tuple[str, ...]:
        """Identity of a config within this space (extra keys ignored)."""
        return tuple(config.get(name, "") for name in self.names)

    def configs_to_unit(self, configs: Sequence[Config]) -> tuple[FloatArray, list[int]]:
        """Unit points of the configs this space can hold, and their positions in ``configs``.

        Configs the space cannot hold (e.g. inherited from a warm-start parent with other
        ranges) are skipped rather than failing the suggestion."""
        rows: list[FloatArray] = []
        kept: list[int] = []
        for i, config in enumerate(configs):
            try:
                rows.append(self.space.to_unit(config))
            except ValueError:
                continue
            kept.append(i)
        if not rows:
            return np.empty((0, self.space.dim)), kept
        return np.array(rows, dtype=float), kept

    def snap(self, u: FloatArray) -> FloatArray:
        """Vectorised ``space.snap``: discrete coordinates to their slice centre, clip to [0, 1]."""
        out = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
        for i in self.discrete:
            rng = self.space.ranges[i]
            col = out[:, i]
            if isinstance(rng, CategoricalRange):
                idx = np.minimum(np.floor(col * rng.size), rng.size - 1)
                out[:, i] = (idx + 0.5) / rng.size
            elif isinstance(rng, IntegerRange):
                out[:, i] = self._snap_integer(rng, col)
        return np.asarray(out, dtype=np.float64)

    @staticmethod
    def _int_value(rng: IntegerRange, col: FloatArray) -> FloatArray:
        """Vectorised ``IntegerRange.value_at`` (as floats)."""
        if rng.scaling == "Linear":
            return np.asarray(rng.low + np.minimum(np.floor(col * rng.size), rng.size - 1))
        a, b = np.log(rng.low - 0.5), np.log(rng.high + 0.5)
        k = np.floor(np.exp(a + col * (b - a)) + 0.5)
        return np.asarray(np.clip(k, rng.low, rng.high), dtype=float)

    @staticmethod
    def _int_unit(rng: IntegerRange, k: FloatArray) -> FloatArray:
        """Vectorised ``IntegerRange.unit_of``: centre of the slice decoding to ``k``."""
        if rng.scaling == "Linear":
            return np.asarray((k - rng.low + 0.5) / rng.size, dtype=float)
        a, b = np.log(rng.low - 0.5), np.log(rng.high + 0.5)
        centre = 0.5 * (np.log(k - 0.5) + np.log(k + 0.5))
        return np.asarray(np.clip((centre - a) / (b - a), 0.0, 1.0), dtype=float)

    def _snap_integer(self, rng: IntegerRange, col: FloatArray) -> FloatArray:
        return self._int_unit(rng, self._int_value(rng, col))

    # ------------------------------------------------------------------ feature space
    def features(self, u: FloatArray) -> FloatArray:
        """GP features of (snapped) unit points."""
        m = u.shape[0]
        f = np.zeros((m, self.n_features))
        f[:, : len(self.numeric)] = u[:, self.numeric]
        for i, size, offset in self._cat_blocks:
            if size == 1:
                continue
            idx = np.minimum(np.floor(u[:, i] * size), size - 1).astype(int)
            if size == 2:
                f[:, offset] = idx
            else:
                f[np.arange(m), offset + idx] = 1.0
        return f

    def discrete_grid(self) -> FloatArray:
        """Every point of a fully discrete space, rows in ``space.grid()`` (rank) order."""
        axes = []
        for r in self.space.ranges:
            if isinstance(r, IntegerRange):
                axes.append(self._int_unit(r, np.arange(r.low, r.high + 1, dtype=float)))
            elif isinstance(r, CategoricalRange):
                axes.append((np.arange(r.size) + 0.5) / r.size)
            else:
                raise ValueError("space has a continuous range")
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)

    def neighbours(self, u: FloatArray, max_values: int = 16) -> FloatArray:
        """Points differing from ``u`` (one row) in exactly one discrete coordinate.

        Ranges with at most ``max_values`` values are swept exhaustively; larger integer ranges
        try the two values on either side, which is what rounding after a continuous step misses.
        """
        rows: list[FloatArray] = []
        for i in self.discrete:
            rng = self.space.ranges[i]
            if isinstance(rng, CategoricalRange):
                vals = (np.arange(rng.size) + 0.5) / rng.size
            elif isinstance(rng, IntegerRange):
                if rng.size <= max_values:
                    ks = np.arange(rng.low, rng.high + 1, dtype=float)
                else:
                    current = self._int_value(rng, u[i : i + 1])[0]
                    ks = np.clip(current + np.array([-2.0, -1.0, 1.0, 2.0]), rng.low, rng.high)
                vals = self._int_unit(rng, ks)
            else:
                continue
            block = np.repeat(u[None, :], len(vals), axis=0)
            block[:, i] = vals
            rows.append(block)
        if not rows:
            return np.empty((0, u.shape[0]))
        return self.snap(np.vstack(rows))
