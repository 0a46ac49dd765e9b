"""The ``modelgates`` command: keys from the terminal, a local server, and the demo.

The commands need the ``cli`` extra (click and rich). This module imports neither, so that
``modelgates`` without them says how to get them instead of failing with a traceback; the
commands themselves live in ``modelgates_async._cli``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

INSTALL_HINT = (
    "The modelgates command needs the cli extra (click and rich):\n"
    "    pip install 'modelgates-async[cli]'\n"
)


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``modelgates`` with ``argv`` (default: the process's arguments) and exit."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        sys.stderr.write(INSTALL_HINT)
        raise SystemExit(2) from None
    from modelgates_async._cli import cli

    cli.main(args=list(argv) if argv is not None else None, prog_name="modelgates")


if __name__ == "__main__":
    main()
