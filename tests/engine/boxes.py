"""Search spaces the engine tests share."""

from __future__ import annotations

from amtune.engine.spaces import SearchSpace


def unit_box(dim: int) -> SearchSpace:
    """``dim`` continuous ranges ``x0..``, each [0, 1] on a linear scale."""
    return SearchSpace.from_parameter_ranges(
        {
            "ContinuousParameterRanges": [
                {"Name": f"x{i}", "MinValue": "0", "MaxValue": "1", "ScalingType": "Linear"}
                for i in range(dim)
            ]
        }
    )
