"""What the ``modelgates`` commands print: the console (fitted to the terminal, or to
``$COLUMNS``, or wide on a pipe so that hashes are never folded), JSON for programs, and
records shown field by field with the shared formatters of
:mod:`~modelgates_async.cli.formatting`."""

from __future__ import annotations

import json
import os
from typing import Any

import attrs
import click
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from modelgates_async._convert import unstructure
from modelgates_async.cli.app import settings
from modelgates_async.cli.formatting import field_text, status
from modelgates_async.models import APIKey, CurrentKey

__all__ = ["PIPE_WIDTH", "console", "detail_table", "print_json", "show_key"]

PIPE_WIDTH = 200
"""The width of output to a pipe or file when ``$COLUMNS`` does not say otherwise."""


def console(*, stderr: bool = False) -> Console:
    """A rich console: the terminal's width, else ``$COLUMNS``, else :data:`PIPE_WIDTH`."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else PIPE_WIDTH
    return Console(stderr=stderr, width=width, no_color=True)


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (dates and other values as their text)."""
    click.echo(json.dumps(data, indent=2, default=str))


def detail_table(record: APIKey | CurrentKey) -> RenderableType:
    """Every field of a record, one per row; a key's hash comes first, on a line of its
    own, so that it is never folded at 80 columns."""
    table = Table(show_header=False, box=None)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_row("status", status(record))
    for field in attrs.fields(type(record)):
        if field.name in ("disabled", "hash"):
            continue  # the status row and the title say them
        table.add_row(field.name, field_text(field.name, getattr(record, field.name)))
    if isinstance(record, APIKey):
        return Group(Text(f"key {record.hash}", style="bold"), table)
    return table


def show_key(key: APIKey) -> None:
    """Print one key: every field as a table, or JSON with ``--json``."""
    if settings().json:
        print_json(unstructure(key))
    else:
        console().print(detail_table(key))
