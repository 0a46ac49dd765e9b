"""The story ``modelgates demo`` tells: the SDK's main job, start to finish, on a local server.

A SaaS gives each tenant its own key with a spending limit, watches their spend, rotates
keys and cuts off tenants who overspend. The demo does all of that in a few seconds on a
local ModelGates server started in this process (a background thread), so it needs no
account and touches nothing outside this machine. With ``--live`` it runs on the real
account of ``MODELGATES_API_KEY`` instead, skips the usage it cannot fake there, and
deletes its keys afterwards (unless ``--keep``).

No secret is ever printed: the table shows each key's masked label.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import attrs
from rich.console import Console
from rich.table import Table

from modelgates_async._bulk import KeySpec, KeyUpdate
from modelgates_async._client import AsyncModelGates
from modelgates_async.cli.formatting import money as format_money
from modelgates_async.cli.formatting import reset
from modelgates_async.models import APIKey, usage_in_limit_window

__all__ = ["TENANTS", "Tenant", "run_demo"]

NEAR = 0.8
PREFIX_LENGTH = 8
"""Hashes are shown by a prefix (unique among a handful of demo keys), never cut with "…"."""
PREFIX = "demo-tenant-"


@attrs.frozen
class Tenant:
    """A demo tenant: its key's settings and what it spends during the demo."""

    name: str
    limit: float | None
    reset: str | None
    byok_counts: bool = False
    spend: float = 0.0
    byok_spend: float = 0.0

    def spec(self) -> KeySpec:
        return KeySpec(
            PREFIX + self.name,
            limit=self.limit,
            limit_reset=self.reset,
            include_byok_in_limit=self.byok_counts,
        )


TENANTS = (
    Tenant("acme", 50, "monthly", spend=12.0),
    Tenant("globex", 20, "weekly", spend=17.0),
    Tenant("initech", 10, "daily", spend=10.5),
    Tenant("umbrella", 100, "monthly", byok_counts=True, spend=60.0, byok_spend=45.0),
    Tenant("hooli", 5, None, spend=4.5),
    Tenant("stark", None, None, spend=250.0),
    Tenant("wayne", 40, "weekly", spend=2.0),
    Tenant("tyrell", 25, "daily", byok_counts=False, spend=3.0, byok_spend=40.0),
)
ROTATED = "acme"

RecordUsage = Callable[..., Any]


def money(value: float | None) -> str:
    """USD with cents, or "no limit" (the CLI's shared money formatter)."""
    return format_money(value, none="no limit")


def _limit_cells(key: APIKey) -> tuple[str, str, str, str]:
    """A key's hash (its start), label, limit and reset, as the demo's tables show them."""
    return key.hash[:PREFIX_LENGTH], key.label, money(key.limit), reset(key.limit_reset)


def tenant_of(key: APIKey) -> str:
    """The tenant a demo key belongs to (its name without the demo prefix)."""
    return key.name.removeprefix(PREFIX)


def step(console: Console, number: int, text: str) -> None:
    """Print the heading of a numbered step."""
    console.print()
    console.print(f"[bold]{number}. {text}[/]")


def run_demo(
    console: Console,
    *,
    live_key: str | None = None,
    base_url: str | None = None,
    keep: bool = False,
    local: bool = False,
) -> None:
    """Run the demo; on a server of its own unless ``live_key`` is given: then on the
    account at ``base_url`` — a server on this machine when ``local``, else a real one."""
    started = time.perf_counter()
    if live_key is None:
        from modelgates_async.server import LocalServer

        with LocalServer() as server:
            console.print(
                f"Started a local ModelGates server at {server.base_url} in this process "
                "(nothing leaves this machine)."
            )
            asyncio.run(
                scenario(console, server.management_key, server.base_url, server.record_usage)
            )
    else:
        if local:
            console.print(
                f"Working on the local server at {base_url} (a loopback address, not a real "
                "account); the demo deletes its keys afterwards."
            )
        else:
            console.print(
                "[bold red]Live run[/]: working on the real account of MODELGATES_API_KEY."
            )
        asyncio.run(scenario(console, live_key, base_url, None, cleanup=not keep))
    console.print()
    console.print(f"[bold green]Done[/] in {time.perf_counter() - started:.1f}s.")


async def scenario(
    console: Console,
    api_key: str,
    base_url: str | None,
    record_usage: RecordUsage | None,
    *,
    cleanup: bool = False,
) -> None:
    """The tenant story, step by step, printing a table after each step.

    ``record_usage`` is the local server's usage control; None means a live account, where
    the demo touches only the keys it created itself.
    """
    live = record_usage is None
    async with AsyncModelGates(api_key=api_key, base_url=base_url) as mg:
        step(console, 1, f"Provision a key per tenant — api_keys.create_many({len(TENANTS)} specs)")
        began = time.perf_counter()
        created = await mg.api_keys.create_many([t.spec() for t in TENANTS], concurrency=8)
        created.raise_for_errors()
        keys = {tenant_of(c.data): c.data for c in created.values}
        table = Table(
            title=f"{created.succeeded} keys in {time.perf_counter() - began:.2f}s; "
            "their secrets went back to the caller only",
            title_justify="left",
        )
        for column in ("tenant", "hash", "label", "limit", "resets", "BYOK"):
            table.add_column(column, no_wrap=True)
        for tenant in TENANTS:
            key = keys[tenant.name]
            table.add_row(
                tenant.name, *_limit_cells(key), "yes" if key.include_byok_in_limit else "no"
            )
        console.print(table)

        step(console, 2, "Tenants spend (the local server's usage control)")
        if record_usage is None:
            console.print("Skipped on a live account: spend comes from real traffic there.")
        else:
            for tenant in TENANTS:
                if tenant.spend:
                    record_usage(keys[tenant.name].hash, tenant.spend)
                if tenant.byok_spend:
                    record_usage(keys[tenant.name].hash, tenant.byok_spend, byok=True)
            console.print(
                "Recorded "
                + ", ".join(
                    f"{t.name} ${t.spend:g}"
                    + (f" + ${t.byok_spend:g} BYOK" if t.byok_spend else "")
                    for t in TENANTS
                )
            )

        step(console, 3, f"Who is near the limit — api_keys.over_limit(threshold={NEAR})")
        current = (await mg.api_keys.get_many(k.hash for k in keys.values())).raise_for_errors()
        if live:
            # A real account holds other keys: judge only the demo's own.
            near = {key.hash for key in current.values if key.is_over_limit(NEAR)}
            over = {key.hash for key in current.values if key.is_over_limit()}
        else:
            near = {key.hash async for key in mg.api_keys.over_limit(NEAR)}
            over = {key.hash async for key in mg.api_keys.over_limit(1.0)}
        table = Table(title="Spend in the current reset window", title_justify="left")
        for column in ("tenant", "spent", "limit", "used", "window", "status"):
            table.add_column(
                column, no_wrap=True, justify="right" if column in ("spent", "used") else "left"
            )
        for key in sorted(current.values, key=_share, reverse=True):
            spent = usage_in_limit_window(key)
            status = (
                "[red]over[/]"
                if key.hash in over
                else "[yellow]near[/]"
                if key.hash in near
                else "ok"
            )
            table.add_row(
                tenant_of(key),
                money(spent),
                money(key.limit),
                "—" if key.limit is None else f"{_share(key):.0%}",
                _window(key),
                status,
            )
        console.print(table)

        step(console, 4, f"Rotate {ROTATED}'s key — api_keys.rotate(hash)")
        old = keys[ROTATED]
        new = await mg.api_keys.rotate(old.hash)
        retired = await mg.api_keys.get(old.hash)
        table = Table(
            title="Same settings, new secret; the old key is disabled", title_justify="left"
        )
        for column in ("", "hash", "label", "limit", "resets", "status"):
            table.add_column(column, no_wrap=True)
        for which, key in (("old", retired), ("new", new.data)):
            table.add_row(which, *_limit_cells(key), "disabled" if key.disabled else "enabled")
        console.print(table)

        if live:
            # disable_over_limit() would cut off the account's own keys too: not ours to touch.
            step(console, 5, "Cut off tenants over their limit — api_keys.update_many(...)")
            targets = [key for key in current.values if key.hash in over]
            disabled = await mg.api_keys.update_many(
                KeyUpdate(key.hash, disabled=True) for key in targets
            )
            outcomes = list(zip(targets, disabled, strict=True))
        else:
            step(console, 5, "Cut off tenants over their limit — api_keys.disable_over_limit()")
            disabled = await mg.api_keys.disable_over_limit()
            outcomes = [(item.input, item) for item in disabled]
        table = Table(
            title=f"Disabled {disabled.succeeded} key(s), {disabled.failed} failure(s)",
            title_justify="left",
        )
        for column in ("tenant", "spent", "limit", "status"):
            table.add_column(column, no_wrap=True)
        for found, item in outcomes:
            table.add_row(
                tenant_of(found),
                money(usage_in_limit_window(found)),
                money(found.limit),
                "disabled" if item.ok else f"[red]{item.error}[/]",
            )
        console.print(table)

        step(console, 6, "Where every tenant stands — api_keys.get_many(every demo key)")
        table = Table(title="All demo keys", title_justify="left")
        for column in ("tenant", "hash", "status", "limit", "spent in window"):
            table.add_column(column, no_wrap=True)
        ours = [*(key.hash for key in keys.values()), new.data.hash]
        mine = (await mg.api_keys.get_many(ours)).raise_for_errors().values
        for key in sorted(mine, key=lambda k: (tenant_of(k), k.created_at)):
            table.add_row(
                tenant_of(key),
                key.hash[:PREFIX_LENGTH],
                "[red]disabled[/]" if key.disabled else "[green]enabled[/]",
                money(key.limit),
                money(usage_in_limit_window(key)),
            )
        console.print(table)

        if cleanup:
            deleted = await mg.api_keys.delete_many(key.hash for key in mine)
            console.print(f"Deleted the {deleted.succeeded} demo keys from the live account.")


def _share(key: APIKey) -> float:
    if key.limit is None:
        return -1.0
    if key.limit == 0:
        return float("inf")
    return usage_in_limit_window(key) / key.limit


def _window(key: APIKey) -> str:
    base = key.limit_reset.value if key.limit_reset else "all time"
    return base + (" + BYOK" if key.include_byok_in_limit else "")
