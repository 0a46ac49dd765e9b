"""``modelgates demo``: the command that checks the credentials situation and runs the demo
scenario (:mod:`modelgates_async.cli.demo_scenario`) on a local server or, with ``--live``, on
a real account."""

from __future__ import annotations

import os

import click

from modelgates_async.cli.app import APIFailure, common_options, explain, settings
from modelgates_async.cli.output import console
from modelgates_async.errors import InvalidRequestError, ModelGatesError

__all__ = ["demo"]


@click.command()
@click.option(
    "--live",
    is_flag=True,
    help="Run against the real account of MODELGATES_API_KEY (creates, rotates, disables "
    "and then deletes demo keys there).",
)
@click.option("--keep", is_flag=True, help="With --live: keep the demo keys afterwards.")
@common_options
def demo(live: bool, keep: bool) -> None:
    """Show the SDK at work on a local server: bulk provisioning, usage, rotation, cut-offs."""
    from modelgates_async.cli.demo_scenario import run_demo

    options = settings()
    api_key = options.api_key or os.environ.get("MODELGATES_API_KEY") or None
    if api_key and not live:
        raise click.UsageError(
            "MODELGATES_API_KEY (or --api-key) is set, so the demo would create, rotate and "
            "disable keys in that real account. Unset it to run on a local server, or pass "
            "--live to do it for real."
        )
    if live and not api_key:
        raise click.UsageError("--live needs a management key: set MODELGATES_API_KEY.")
    try:
        run_demo(
            console(), live_key=api_key if live else None, base_url=options.base_url, keep=keep
        )
    except InvalidRequestError as exc:
        raise click.UsageError(exc.message) from None
    except ModelGatesError as exc:
        raise APIFailure(explain(exc, options.base_url or "the server")) from None
