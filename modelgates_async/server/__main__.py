"""``python -m modelgates_async.server``: run a local ModelGates server until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from .connections import DEFAULT_HEADER_TIMEOUT
from .errors import ServerConfigError
from .runner import serve

__all__ = ["main"]


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535; 0: any free one)")
    return value


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m modelgates_async.server",
        description="Run a local ModelGates API-key management server.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=_port, default=8080, help="port to bind (8080; 0: any)")
    parser.add_argument(
        "--management-key",
        default=None,
        help="management key (default: env MODELGATES_MANAGEMENT_KEY, else a new one)",
    )
    parser.add_argument("--db", default=None, help="SQLite file to keep keys in (default: memory)")
    parser.add_argument(
        "--rate-limit",
        type=_positive,
        default=None,
        metavar="N",
        help="answer 429 past N requests a second per key",
    )
    parser.add_argument(
        "--header-timeout",
        type=_positive,
        default=DEFAULT_HEADER_TIMEOUT,
        metavar="SECONDS",
        help=f"close connections whose request headers take longer ({DEFAULT_HEADER_TIMEOUT:g})",
    )
    parser.add_argument(
        "--max-connections",
        type=_count,
        default=None,
        metavar="N",
        help="answer 503 past N open connections (default: below the file descriptor limit)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if args.access_log:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        serve(
            host=args.host,
            port=args.port,
            management_key=args.management_key,
            db=args.db,
            rate_limit=args.rate_limit,
            access_log=args.access_log,
            header_timeout=args.header_timeout,
            max_connections=args.max_connections,
        )
    except ServerConfigError as exc:
        parser.error(str(exc))  # exit status 2, like any other usage error
    except OSError as exc:
        parser.exit(1, f"{parser.prog}: cannot serve on {args.host}:{args.port}: {exc}\n")


if __name__ == "__main__":
    main()
