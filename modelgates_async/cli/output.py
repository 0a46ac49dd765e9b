"""What the ``modelgates`` commands print and write: rich tables, JSON for programs, money,
status and date formatting, and handing a new secret over.

Secrets: a created key's secret is printed only by the single-key commands (``create``,
``rotate``) unless ``--secret-file`` is given; secrets files are new files of mode 0600,
never an existing file overwritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click
from rich.console import Console
from rich.table import Table

from modelgates_async._usecases import usage_in_limit_window
from modelgates_async.cli.app import settings
from modelgates_async.models import APIKey, CreatedKey, CurrentKey, unstructure

__all__ = [
    "console",
    "detail_table",
    "hand_over_secret",
    "key_table",
    "money",
    "print_json",
    "secret_file",
    "secret_line",
    "show_key",
]


def console(*, stderr: bool = False) -> Console:
    """A rich console; wide when not a terminal so that hashes are not folded."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=200, no_color=True)


def print_json(data: Any) -> None:
    """``data`` as indented JSON on stdout (dates and other values as their text)."""
    click.echo(json.dumps(data, indent=2, default=str))


def money(value: float | None) -> str:
    """USD with cents, or a dash for none."""
    return "—" if value is None else f"${value:,.2f}"


def key_table(keys: list[APIKey], *, title: str | None = None) -> Table:
    """One row a key: the hash to pass to other commands, then settings and spend."""
    table = Table(title=title, title_justify="left")
    table.add_column("hash", no_wrap=True, style="cyan")
    table.add_column("name")
    table.add_column("label", no_wrap=True)
    table.add_column("status")
    table.add_column("limit", justify="right")
    table.add_column("reset")
    table.add_column("spent in window", justify="right")
    table.add_column("created", no_wrap=True)
    for key in keys:
        table.add_row(
            key.hash,
            key.name,
            key.label,
            "disabled" if key.disabled else "enabled",
            money(key.limit),
            key.limit_reset.value if key.limit_reset else "never",
            money(usage_in_limit_window(key)),
            key.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


def detail_table(record: APIKey | CurrentKey) -> Table:
    """Every field of a record, one per row."""
    table = Table(show_header=False, box=None)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in unstructure(record).items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, default=str)
        table.add_row(name, "—" if value is None else str(value))
    return table


def show_key(key: APIKey) -> None:
    """Print one key: every field as a table, or JSON with ``--json``."""
    if settings().json:
        print_json(unstructure(key))
    else:
        console().print(detail_table(key))


# --- secrets ------------------------------------------------------------------------------


@contextmanager
def secret_file(path: Path) -> Iterator[IO[str]]:
    """A new file that only its owner can read (0600); an existing one is never replaced."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise click.UsageError(
            f"{path} already exists; secrets files are never overwritten. Choose another path."
        ) from None
    except OSError as exc:
        raise click.UsageError(f"Cannot create {path}: {exc.strerror}") from None
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # whatever the umask says
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yield handle


def secret_line(created: CreatedKey, **extra: Any) -> str:
    """One JSON line of a secrets file: ``extra``, then the key's name, hash and secret."""
    return json.dumps(
        {**extra, "name": created.data.name, "hash": created.data.hash, "key": created.key}
    )


def hand_over_secret(created: CreatedKey, path: Path | None, *, json_data: Any) -> None:
    """Give the new secret to the user: into ``path`` (0600) if given, else on stdout."""
    if path is not None:
        with secret_file(path) as handle:
            handle.write(secret_line(created) + "\n")
    if settings().json:
        print_json({**json_data, **({} if path is not None else {"key": created.key})})
        return
    out = console()
    out.print(detail_table(created.data))
    if path is not None:
        out.print(f"The secret is in {path} (mode 0600); it is shown nowhere else.")
    else:
        out.print("Secret (shown only this once — store it now):")
        click.echo(created.key)
