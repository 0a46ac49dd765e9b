"""Small statistics helpers shared by the scenarios."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

__all__ = ["median", "quartiles", "ratio"]


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def ratio(value: float | None, reference: float | None) -> float | None:
    """``value / reference``, or None when either is missing or the reference is zero."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The first and third quartiles (both the value itself for a single value)."""
    if len(values) < 2:
        return values[0], values[0]
    first, _, third = statistics.quantiles(values, n=4, method="inclusive")
    return first, third
