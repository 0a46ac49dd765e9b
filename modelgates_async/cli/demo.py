"""``modelgates demo``: the command that checks the credentials situation and runs the demo
scenario (:mod:`modelgates_async.cli.demo_scenario`) on a local server or, with ``--live``, on
a real account.

With credentials set (options, environment or profile) the demo refuses to run unless
``--live`` is given — except when the base URL is a loopback address (``127.0.0.0/8``,
``::1``, ``localhost``): that is a local server such as ``modelgates serve`` with its
exports pasted, not a real account, so the demo runs there and deletes its keys after.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import click

from modelgates_async.cli.app import APIFailure, common_options, credentials, explain, settings
from modelgates_async.cli.output import console
from modelgates_async.errors import InvalidRequestError, ModelGatesError

__all__ = ["demo", "is_loopback"]


def is_loopback(base_url: str | None) -> bool:
    """Whether ``base_url`` points at this machine (a local server, not a real account)."""
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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

    api_key, base_url, _ = credentials()
    local = is_loopback(base_url)
    if api_key and not live and not local:
        raise click.UsageError(
            "MODELGATES_API_KEY (or --api-key, or a profile) is set, so the demo would "
            "create, rotate and disable keys in that real account. Unset it to run on a local "
            "server, or pass --live to do it for real."
        )
    if live and not api_key:
        raise click.UsageError("--live needs a management key: set MODELGATES_API_KEY.")
    if live or local:
        settings().interrupted = (
            "Demo keys (named demo-tenant-…) may remain on that account: "
            "`modelgates keys list --include-disabled` shows them."
        )
    try:
        run_demo(
            console(),
            live_key=api_key if live or local else None,
            base_url=base_url,
            keep=keep,
            local=local,
        )
    except InvalidRequestError as exc:
        raise click.UsageError(exc.message) from None
    except ModelGatesError as exc:
        raise APIFailure(explain(exc, base_url or "the server"), error=exc) from None
