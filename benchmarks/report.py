"""The results: one table (rows of every scenario and contender), targets, machine facts.

Printed as aligned text and written as JSON and markdown (``results/latest.{json,md}``).
Every ratio is ``this contender's figure / the reference's figure`` for the same scenario
in the same run: for rates higher is better, for times, CPU and memory lower is better.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "Row",
    "Target",
    "format_ratio",
    "format_value",
    "machine_description",
    "markdown",
    "text_table",
    "write_results",
]

PACKAGES = (
    "modelgates-async",
    "aiohttp",
    "attrs",
    "cattrs",
    "tenacity",
    "uvloop",
    "requests",
    "httpx",
    "sniffio",
    "openrouter",
    "pydantic",
)


@dataclasses.dataclass
class Row:
    """One contender in one scenario.

    ``value`` is the headline figure in ``unit``; ``cpu_per_1k`` the client's CPU seconds per
    1,000 requests; ``vs_floor`` / ``vs_peer`` the ratios of ``value`` to the raw floor's
    and to openrouter's; ``cpu_vs_floor`` the ratio of CPU per request to the floor's.
    """

    scenario: str
    contender: str
    n: int | None = None
    value: float | None = None
    unit: str = ""
    cpu_per_1k: float | None = None
    cpu_vs_floor: float | None = None
    vs_floor: float | None = None
    vs_peer: float | None = None
    note: str = ""
    unavailable: str | None = None
    samples: list[float] = dataclasses.field(default_factory=list)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Target:
    """One goal of the issue, with what this run reached."""

    goal: str
    reached: str
    met: bool | None  # None: could not be measured in this run

    @property
    def verdict(self) -> str:
        """``met``, ``MISSED`` or ``n/a``."""
        return "n/a" if self.met is None else ("met" if self.met else "MISSED")


def format_value(value: float | None, unit: str) -> str:
    """A headline figure with its unit, e.g. ``15,512 req/s`` or ``123.4 ms``."""
    if value is None:
        return "-"
    if unit == "req/s":
        return f"{value:,.0f} req/s"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "MB":
        return f"{value:,.2f} MB"
    if unit == "× limit":
        return f"{value:.2f}× limit"
    return f"{value:,.3g} {unit}".strip()


def format_ratio(value: float | None) -> str:
    """``1.23×``, or ``-`` when there is nothing to compare."""
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}×"
    return f"{value:.2f}×"


_HEADERS = (
    "Scenario",
    "Contender",
    "n",
    "Result",
    "CPU s/1k req",
    "CPU × floor",
    "× floor",
    "× openrouter",
    "Notes",
)


def _cells(row: Row) -> tuple[str, ...]:
    if row.unavailable is not None:
        return (
            row.scenario,
            row.contender,
            "-",
            "n/a (not available)",
            "-",
            "-",
            "-",
            "-",
            row.unavailable,
        )
    return (
        row.scenario,
        row.contender,
        "-" if row.n is None else f"{row.n:,}",
        format_value(row.value, row.unit),
        "-" if row.cpu_per_1k is None else f"{row.cpu_per_1k:.3f}",
        format_ratio(row.cpu_vs_floor),
        format_ratio(row.vs_floor),
        format_ratio(row.vs_peer),
        row.note,
    )


def text_table(rows: Sequence[Row], targets: Sequence[Target]) -> str:
    """The results as aligned plain text (the table, then the targets)."""
    table = [_HEADERS, *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADERS) - 1)]
    lines = []
    for index, line in enumerate(table):
        padded = (cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True))
        lines.append("  ".join(padded) + "  " + line[-1])
        if index == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 5)
    lines.append("")
    lines.append("Targets")
    for target in targets:
        lines.append(f"  [{target.verdict:^6}] {target.goal}: {target.reached}")
    return "\n".join(lines)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(rows: Sequence[Row], targets: Sequence[Target], machine: dict[str, Any]) -> str:
    """The results as a markdown page: machine, table, targets."""
    out = ["# Benchmark results", ""]
    out.append(f"Run {machine['date']} ({machine['mode']} mode), `python -m benchmarks`.")
    out.append("")
    out.append(f"- Machine: {machine['cpu']}, {machine['cores']} cores; {machine['platform']}")
    out.append(f"- Python {machine['python']}; async contenders on {machine['event_loop']}")
    versions = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())
    out.append(f"- Packages: {versions}")
    out.append(f"- Commit: {machine['commit']}")
    out.append("")
    out.append("| " + " | ".join(_HEADERS) + " |")
    out.append("|" + "|".join("---" for _ in _HEADERS) + "|")
    for row in rows:
        out.append("| " + " | ".join(_md_escape(c) for c in _cells(row)) + " |")
    out.append("")
    out.append("| Target | Reached | Verdict |")
    out.append("|---|---|---|")
    for target in targets:
        out.append(
            f"| {_md_escape(target.goal)} | {_md_escape(target.reached)} | {target.verdict} |"
        )
    out.append("")
    return "\n".join(out)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (with uncommitted changes)" if dirty else "")


def machine_description(mode: str, event_loop: str) -> dict[str, Any]:
    """CPU model, cores, OS, Python, package versions, commit, date."""
    packages: dict[str, str] = {}
    for name in PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = "not installed"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": mode,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "event_loop": event_loop,
        "packages": packages,
        "commit": _commit(),
    }


def write_results(
    directory: Path,
    rows: Sequence[Row],
    targets: Sequence[Target],
    machine: dict[str, Any],
    settings: dict[str, Any],
) -> tuple[Path, Path]:
    """Write ``latest.json`` and ``latest.md`` into ``directory``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    as_json = {
        "machine": machine,
        "settings": settings,
        "rows": [dataclasses.asdict(r) for r in rows],
        "targets": [{**dataclasses.asdict(t), "verdict": t.verdict} for t in targets],
    }
    json_path = directory / "latest.json"
    json_path.write_text(json.dumps(as_json, indent=2, ensure_ascii=False) + "\n", "utf-8")
    md_path = directory / "latest.md"
    md_path.write_text(markdown(rows, targets, machine), "utf-8")
    return json_path, md_path
