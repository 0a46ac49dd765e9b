"""The benchmark harness's pure parts: the table, the ratios, the target verdicts.

No timing is measured or asserted here; ``python -m benchmarks --quick`` exercises the rest.
"""

from __future__ import annotations

from benchmarks.cli import evaluate_targets
from benchmarks.report import Row, Target, format_ratio, format_value, markdown, text_table
from benchmarks.stats import median, quartiles, ratio
from benchmarks.throughput import fill_ratios


def _machine() -> dict[str, object]:
    return {
        "date": "2025-01-01 00:00 UTC",
        "mode": "quick",
        "cpu": "Test CPU",
        "cores": 2,
        "platform": "Linux",
        "python": "CPython 3.11",
        "event_loop": "uvloop",
        "packages": {"aiohttp": "3.9"},
        "commit": "abc1234",
    }


def _throughput_rows() -> list[Row]:
    rows = [
        Row("1. get", "raw aiohttp", n=100, value=10_000.0, unit="req/s", cpu_per_1k=0.1),
        Row("1. get", "AsyncModelGates", n=100, value=9_000.0, unit="req/s", cpu_per_1k=0.12),
        Row("1. get", "openrouter async", n=10, value=300.0, unit="req/s", cpu_per_1k=3.0),
    ]
    fill_ratios(rows, "raw aiohttp", "openrouter async")
    return rows


def test_ratios_are_relative_to_the_floor_and_the_peer() -> None:
    """Each row's ratios divide its figures by the floor's and openrouter's."""
    ours = _throughput_rows()[1]
    assert ours.vs_floor == 0.9
    assert ours.vs_peer == 30.0
    assert ours.cpu_vs_floor is not None
    assert abs(ours.cpu_vs_floor - 1.2) < 1e-9


def test_an_unavailable_contender_is_shown_as_not_available() -> None:
    """A contender that has not landed yet is a row saying n/a, not a crash."""
    rows = [*_throughput_rows(), Row("3. seq", "ModelGates (sync)", unavailable="not yet")]
    table = text_table(rows, [])
    assert "n/a (not available)" in table
    assert "not yet" in table


def test_the_table_lists_every_row_and_target_in_text_and_markdown() -> None:
    """Both renderings carry every contender, its ratios and each target's verdict."""
    rows = _throughput_rows()
    targets = [Target("goal one", "0.90×", True), Target("goal two", "n/a", None)]
    text = text_table(rows, targets)
    page = markdown(rows, targets, _machine())
    for rendering in (text, page):
        for row in rows:
            assert row.contender in rendering
        assert "30.00×" in rendering
        assert "goal one" in rendering
        assert "met" in rendering
    assert "Test CPU, 2 cores" in page


def test_targets_are_judged_from_the_rows() -> None:
    """The throughput targets pass or fail on the run's own ratios; unmeasured ones are n/a."""
    targets = {t.goal: t for t in evaluate_targets(_throughput_rows())}
    floor = targets["scenario 1 (gets): AsyncModelGates ≥ 0.85× raw aiohttp throughput"]
    peer = targets["scenario 1 (gets): AsyncModelGates ≥ 20× openrouter async throughput"]
    cpu = targets["scenario 1 (gets): client CPU/request ≤ 1.3× raw aiohttp"]
    assert (floor.met, peer.met, cpu.met) == (True, True, True)
    assert all(t.met is None for goal, t in targets.items() if goal.startswith("scenario 3"))


def test_formatting_helpers() -> None:
    """Figures and ratios print with their units; missing ones print as a dash."""
    assert format_value(15_512.4, "req/s") == "15,512 req/s"
    assert format_value(123.44, "ms") == "123.4 ms"
    assert format_value(None, "ms") == "-"
    assert format_ratio(0.857) == "0.86×"
    assert format_ratio(None) == "-"
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([]) is None
    assert ratio(1.0, 0.0) is None


def _round_rows() -> list[Row]:
    # Three rounds; round 1 was busy for everyone (all figures doubled).
    def row(name: str, cpus: list[float]) -> Row:
        return Row(
            "1. get",
            name,
            n=100,
            value=1000.0,
            unit="req/s",
            cpu_per_1k=median(cpus),
            extra={"cpu_per_1k_by_round": {str(i): c for i, c in enumerate(cpus)}},
        )

    return [
        row("raw aiohttp", [0.10, 0.20, 0.10]),
        row("AsyncModelGates", [0.11, 0.22, 0.11]),
        row("AsyncModelGates@a4a529b", [0.12, 0.24, 0.12]),
    ]


def test_cpu_against_the_floor_is_the_median_of_per_round_ratios() -> None:
    """A busy round raises both figures alike: the per-round ratios, not the medians, count."""
    rows = _round_rows()
    fill_ratios(rows, "raw aiohttp", "openrouter async")
    ours = rows[1]
    assert ours.cpu_vs_floor is not None
    assert abs(ours.cpu_vs_floor - 1.1) < 1e-9
    low, high = ours.extra["cpu_vs_floor_quartiles"]
    assert abs(low - 1.1) < 1e-9
    assert abs(high - 1.1) < 1e-9


def test_the_baseline_target_compares_with_the_older_sdk_round_by_round() -> None:
    """With a baseline row, a target says whether this SDK costs no more CPU than it did."""
    rows = _round_rows()
    fill_ratios(rows, "raw aiohttp", "openrouter async")
    targets = {t.goal: t for t in evaluate_targets(rows)}
    before = targets[
        "scenario 1 (gets): client CPU/request ≤ AsyncModelGates@a4a529b's "
        "(median of per-round ratios, IQR)"
    ]
    assert before.met is True
    assert before.reached.startswith("0.92×")
    assert targets["scenario 1 (gets): client CPU/request ≤ 1.15× raw aiohttp"].met is True


def test_quartiles_of_one_and_of_several_values() -> None:
    """The spread of a single round is that round; of several, the inclusive quartiles."""
    assert quartiles([2.0]) == (2.0, 2.0)
    assert quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == (2.0, 4.0)
