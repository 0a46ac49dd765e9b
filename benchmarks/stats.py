"""Small statistics helpers shared by the scenarios."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

__all__ = ["median", "ratio"]


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None


def ratio(value: float | None, reference: float | None) -> float | None:
    """``value / reference``, or None when either is missing or the reference is zero."""
    if value is None or reference is None or reference == 0:
        return None
    return value / reference
