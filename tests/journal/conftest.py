"""Fixtures of the journal tests: a journal path in a private directory."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def journal_path(tmp_path: Path) -> str:
    """Where a test's journal goes (not created yet)."""
    return str(tmp_path / "provision.journal")
