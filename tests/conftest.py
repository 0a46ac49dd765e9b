"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelgates_async.testing import no_backoff


@pytest.fixture
def waits() -> Iterator[list[float]]:
    """Test mode: the retry and limiter pauses are recorded instead of slept."""
    with no_backoff() as skipped:
        yield skipped
