"""The ``modelgates`` command: keys from the terminal, a local server, and the demo.

The commands need the ``cli`` extra (click and rich). This module imports neither, so that
``modelgates`` without them says how to get them instead of failing with a traceback.

Where things live (imports go one way: commands → output/secrets/… → app → config):

- :mod:`~modelgates_async.cli.app`: the top group, shared options and settings, the client,
  running a call, error advice, exit codes, JSON errors and Ctrl-C summaries.
- :mod:`~modelgates_async.cli.config`: profiles in ``config.toml``.
- :mod:`~modelgates_async.cli.shared_limit`: the Redis-shared limiter ``--redis`` asks for.
- :mod:`~modelgates_async.cli.formatting`: one way to write money, status, dates, resets.
- :mod:`~modelgates_async.cli.output`: the console, JSON, a record field by field.
- :mod:`~modelgates_async.cli.keytable`: the ``keys list`` table, fitted to the width.
- :mod:`~modelgates_async.cli.hashes`: a HASH argument as a full hash or a unique prefix.
- :mod:`~modelgates_async.cli.secrets`: secrets files opened before the API call, 0600.
- :mod:`~modelgates_async.cli.progress`: progress with rate and ETA, on a terminal only.
- :mod:`~modelgates_async.cli.keys`: ``modelgates keys …``, one API call each.
- :mod:`~modelgates_async.cli.specfile`: reading CSV / JSONL files of key specs.
- :mod:`~modelgates_async.cli.bulk`: ``modelgates keys bulk-create`` from such a file.
- :mod:`~modelgates_async.cli.serve`: ``modelgates serve``.
- :mod:`~modelgates_async.cli.demo` and :mod:`~modelgates_async.cli.demo_scenario`:
  ``modelgates demo`` and the story it tells.

This module wires the commands onto the group (:func:`group`) and runs it (:func:`main`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import click

__all__ = ["group", "main"]

INSTALL_HINT = (
    "The modelgates command needs the cli extra (click and rich):\n"
    "    pip install 'modelgates-async[cli]'\n"
)


@cache
def group() -> click.Group:
    """The ``modelgates`` click group with every command attached (needs the cli extra)."""
    from modelgates_async.cli import app, bulk, demo, keys, serve

    keys.keys.add_command(bulk.bulk_create)
    for command in (keys.keys, serve.serve, demo.demo):
        app.cli.add_command(command)
    return app.cli


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``modelgates`` with ``argv`` (default: the process's arguments) and exit."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        sys.stderr.write(INSTALL_HINT)
        raise SystemExit(2) from None
    group().main(args=list(argv) if argv is not None else None, prog_name="modelgates")
