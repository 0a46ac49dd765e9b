"""benchmarks.journal_cost runs end to end (no timing is asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.journal_cost import main


def test_the_journal_cost_scenario_runs_and_reports_both_ways(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tiny run reports throughput and CPU with and without a journal, and cleans up."""
    main(["--keys", "20", "--rounds", "1", "--dir", str(tmp_path)])
    output = capsys.readouterr().out
    assert "median without journal:" in output
    assert "median with journal:" in output
    assert "journal cost (median of per-round ratios):" in output
    assert list(tmp_path.iterdir()) == []  # the journals (secrets) were removed
