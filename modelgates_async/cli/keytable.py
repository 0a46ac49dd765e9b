"""The ``keys list`` table, fitted to the terminal's width.

Columns come in order of need: name, status, limit, spent and the hash first; then the
limit reset, the creation date and the label while they fit; the hash is shown in full
when everything fits, else as its shortest unique prefix among the listed keys (at least
:data:`MIN_PREFIX` characters), which every command that takes a hash accepts. A hash is
never cut with "…": a cut hash cannot be copied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
from rich.table import Table

from modelgates_async.cli.formatting import money, reset, status, when
from modelgates_async.models import APIKey, usage_in_limit_window

__all__ = ["MIN_PREFIX", "key_table", "unique_prefixes"]

MIN_PREFIX = 8
"""The shortest hash prefix the table shows (like git's abbreviated commit ids)."""
_MIN_NAME = 12
"""Below this many characters a name stops being readable: drop optional columns first."""


@attrs.frozen
class _Column:
    header: str
    cell: Callable[[APIKey], str]
    justify: str = "left"


def unique_prefixes(hashes: Sequence[str], minimum: int = MIN_PREFIX) -> dict[str, str]:
    """Each hash's shortest prefix (at least ``minimum`` long) that no other hash shares."""
    ordered = sorted(set(hashes))
    prefixes: dict[str, str] = {}
    for index, value in enumerate(ordered):
        shared = 0
        for neighbour in ordered[max(index - 1, 0) : index + 2]:
            if neighbour != value:
                shared = max(shared, _common_length(value, neighbour))
        prefixes[value] = value[: max(minimum, shared + 1)]
    return prefixes


def _common_length(a: str, b: str) -> int:
    length = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        length += 1
    return length


def _table_width(widths: Sequence[int]) -> int:
    # rich's default box: one space of padding each side of a cell, a border between and around.
    return sum(widths) + 3 * len(widths) + 1


def key_table(keys: Sequence[APIKey], *, width: int, title: str | None = None) -> Table:
    """The keys as a table no wider than ``width`` (see the module docstring for the choice)."""
    prefixes = unique_prefixes([key.hash for key in keys])
    short = _Column("hash", lambda key: prefixes[key.hash])
    full = _Column("hash", lambda key: key.hash)
    core = [
        _Column("status", lambda key: status(key)),
        _Column("limit", lambda key: money(key.limit, none="none"), "right"),
        _Column("spent", lambda key: money(usage_in_limit_window(key)), "right"),
    ]
    extras = [
        _Column("reset", lambda key: reset(key.limit_reset)),
        _Column("created", lambda key: when(key.created_at)),
        _Column("label", lambda key: key.label),
    ]

    def measure(column: _Column) -> int:
        return max([len(column.header), *(len(column.cell(key)) for key in keys)])

    name_wanted = max([len("name"), *(len(key.name) for key in keys)])

    def fits(columns: list[_Column]) -> bool:
        fixed = [measure(column) for column in columns]
        name_width = min(name_wanted, _MIN_NAME)
        return _table_width([name_width, *fixed]) <= width

    chosen = [short, *core]
    for extra in extras:
        if fits([*chosen, extra]):
            chosen.append(extra)
    if fits([full, *chosen[1:]]):
        chosen[0] = full

    fixed = [measure(column) for column in chosen]
    # rich never shrinks a no-wrap column on its own: the name gets what is left, cut with "…".
    name_room = max(width - _table_width([0, *fixed]), min(name_wanted, 4))
    table = Table(title=title, title_justify="left")
    table.add_column(
        "name", overflow="ellipsis", no_wrap=True, max_width=min(name_wanted, name_room)
    )
    for column, column_width in zip(chosen, fixed, strict=True):
        table.add_column(
            column.header,
            no_wrap=True,
            style="cyan" if column.header == "hash" else "",
            justify="right" if column.justify == "right" else "left",
            min_width=column_width,
            max_width=column_width,
        )
    for key in keys:
        table.add_row(key.name, *(column.cell(key) for column in chosen))
    return table
