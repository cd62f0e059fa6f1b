"""Wire <-> Python conversion of the nine operations' members, as botocore does it.

The AWS JSON face sends timestamps as epoch seconds; boto3 hands them to the caller as
timezone-aware datetimes, and accepts datetimes (or numbers, or ISO-8601 strings) in requests.
Which members are timestamps is a fact of the SageMaker service model: the names below are every
timestamp member reachable from the nine operations' input and output shapes. botocore also drops
``null`` members from responses, so do we.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

#: Timestamp members of the nine operations' outputs (SageMaker model, botocore 1.44).
RESPONSE_TIMESTAMPS = frozenset(
    {
        "ConvergenceDetectedTime",
        "CreationTime",
        "EndTime",
        "HyperParameterTuningEndTime",
        "LastModifiedTime",
        "StartTime",
        "Timestamp",
        "TrainingEndTime",
        "TrainingStartTime",
    }
)
#: Timestamp members of their inputs.
REQUEST_TIMESTAMPS = frozenset(
    {"CreationTimeAfter", "CreationTimeBefore", "LastModifiedTimeAfter", "LastModifiedTimeBefore"}
)
#: String-to-string maps: their keys are user data (a hyperparameter may be called "Timestamp").
STRING_MAPS = frozenset(
    {"HyperParameters", "StaticHyperParameters", "TunedHyperParameters", "Environment"}
)


def from_epoch(value: float | int | str) -> dt.datetime:
    """A wire timestamp (epoch seconds, or ISO-8601 as botocore also accepts) as aware UTC."""
    if isinstance(value, str):
        try:
            return dt.datetime.fromtimestamp(float(value), dt.UTC)
        except ValueError:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(value, dt.UTC)


def to_epoch(value: Any) -> int | float:
    """A request timestamp as botocore serialises it: int when whole, else float seconds."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        seconds = moment.timestamp()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = from_epoch(value).timestamp()
    else:
        raise TypeError(f"Invalid type for timestamp: {value!r} (datetime, number or str)")
    return int(seconds) if seconds == int(seconds) else seconds


def parse_response(value: Any) -> Any:
    """Turn timestamp members into datetimes and drop nulls, recursively."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, member in value.items():
            if member is None:
                continue
            if key in RESPONSE_TIMESTAMPS and isinstance(member, int | float | str):
                out[key] = from_epoch(member)
            elif key in STRING_MAPS and isinstance(member, dict):
                out[key] = {k: v for k, v in member.items() if v is not None}
            else:
                out[key] = parse_response(member)
        return out
    if isinstance(value, list):
        return [parse_response(item) for item in value if item is not None]
    return value


def serialize_request(params: Mapping[str, Any]) -> dict[str, Any]:
    """Request parameters ready for JSON: datetimes in timestamp members become epoch seconds."""
    return {key: _serialize(key, value) for key, value in params.items()}


def _serialize(key: str, value: Any) -> Any:
    if key in REQUEST_TIMESTAMPS:
        return to_epoch(value)
    if key in STRING_MAPS:
        return value
    if isinstance(value, Mapping):
        return {k: _serialize(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_serialize("", item) for item in value]
    return value
