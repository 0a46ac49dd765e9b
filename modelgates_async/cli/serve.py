"""``modelgates serve``: the local ModelGates server in the foreground, until Ctrl-C."""

from __future__ import annotations

import click

__all__ = ["serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="Port (0: any free one).",
)
@click.option(
    "--management-key",
    metavar="KEY",
    help="Management key (default: $MODELGATES_MANAGEMENT_KEY, else a new one, printed once).",
)
@click.option("--db", type=click.Path(dir_okay=False), help="Keep keys in this SQLite file.")
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0, min_open=True),
    metavar="N",
    help="Answer 429 past N requests a second per key.",
)
@click.option(
    "--header-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Cut off a client that has not sent its request headers in time (default 10).",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Answer 503 to connections past N open ones (default: below the descriptor limit).",
)
@click.option("--access-log", is_flag=True, help="Log every request.")
def serve(
    host: str,
    port: int,
    management_key: str | None,
    db: str | None,
    rate_limit: float | None,
    header_timeout: float | None,
    max_connections: int | None,
    access_log: bool,
) -> None:
    """Run a local ModelGates server until Ctrl-C (for development, tests and demos)."""
    from modelgates_async.server import DEFAULT_HEADER_TIMEOUT, ServerConfigError
    from modelgates_async.server import serve as run_server

    try:
        run_server(
            host=host,
            port=port,
            management_key=management_key,
            db=db,
            rate_limit=rate_limit,
            access_log=access_log,
            echo=click.echo,
            header_timeout=DEFAULT_HEADER_TIMEOUT if header_timeout is None else header_timeout,
            max_connections=max_connections,
        )
    except ServerConfigError as exc:  # a bad --port, --db or --management-key: no traceback
        raise click.UsageError(str(exc)) from None
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise click.UsageError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. "
            "Choose another --port (0 picks a free one)."
        ) from None
