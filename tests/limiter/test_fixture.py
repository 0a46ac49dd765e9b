"""The Redis fixture's rule: skip on a developer's machine, fail under CI=true."""

from __future__ import annotations

import pytest

from . import helpers as conftest


def test_missing_redis_skips_on_a_developer_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without CI=true a missing redis-server is a skip with the reason."""
    monkeypatch.setattr(conftest, "_NO_SKIP", False)
    with pytest.raises(pytest.skip.Exception, match="redis-server is not installed"):
        conftest.require(False, "redis-server is not installed")


def test_missing_redis_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under CI=true the same situation fails the run instead of skipping."""
    monkeypatch.setattr(conftest, "_NO_SKIP", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        conftest.require(False, "redis-server is not installed")
