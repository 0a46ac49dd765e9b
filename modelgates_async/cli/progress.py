"""Progress of long commands (``bulk-create``, ``list --all``): a rich progress line on
stderr with the count, the rate and, when the total is known, the time left — only when
stderr is a terminal. On a pipe or in a file nothing is drawn, so logs stay clean."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

__all__ = ["RateColumn", "progress", "stderr_is_terminal"]


def stderr_is_terminal() -> bool:
    """Whether progress should be drawn (stderr is a terminal)."""
    return sys.stderr.isatty()


class RateColumn(ProgressColumn):
    """Items a second, e.g. ``42.0 keys/s`` (``–`` until rich can tell)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        """The rate of ``task``."""
        speed = task.finished_speed or task.speed
        return Text("– " + self.unit + "/s" if speed is None else f"{speed:.1f} {self.unit}/s")


def progress(description: str, *, unit: str = "keys", total_known: bool = True) -> Progress:
    """A progress display for ``description``; disabled unless stderr is a terminal."""
    columns: list[ProgressColumn | str] = [TextColumn(description)]
    if total_known:
        columns += [BarColumn(), MofNCompleteColumn()]
    else:
        columns += [TextColumn("{task.completed} " + unit)]
    columns += [
        TextColumn("{task.fields[failed]} failed") if total_known else TextColumn(""),
        RateColumn(unit),
    ]
    columns += [TimeRemainingColumn()] if total_known else [TimeElapsedColumn()]
    terminal = stderr_is_terminal()
    return Progress(
        *columns,
        console=Console(stderr=True, force_terminal=terminal or None),
        transient=True,
        disable=not terminal,
    )
