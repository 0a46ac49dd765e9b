"""benchmarks.fleet runs end to end (no timing is asserted)."""

from __future__ import annotations

import pytest

from benchmarks.fleet import main


def test_the_fleet_benchmark_reports_the_plan_split_and_the_apply_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A tiny run reports read / list / diff for the plan and the apply rate vs the limit."""
    main(["--keys", "200", "--changes", "20", "--rate-limit", "1000"])
    output = capsys.readouterr().out
    assert "plan: 200 desired keys vs 200 live (20 to create, 18 to update)" in output
    for step in ("read FILE (YAML)", "list the account", "diff", "listing dominates:"):
        assert step in output
    assert "apply: 20 changes (10 updates, 10 creates with a journal)" in output
    assert "of the limit" in output
