"""Helpers of the bulk tests: a fake monotonic clock."""

from __future__ import annotations


class FakeTime:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Where a pause of the limiter goes in test mode: the clock moves on at once."""
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
