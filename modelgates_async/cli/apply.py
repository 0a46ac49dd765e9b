"""``modelgates apply FILE``: make the account's keys what FILE describes.

It finishes the creates an interrupted apply of FILE left pending (see
:mod:`~modelgates_async.cli.apply_run`), plans, shows the plan and asks (``--yes`` skips
the question; answering no changes nothing and exits 0), then makes the changes with the
bulk machinery and progress on a terminal. New keys' secrets are appended to a 0600
secrets file (``--out``; by default FILE's name + ``.secrets.jsonl``), never printed unless
``--show-secrets``. Interrupted (Ctrl-C, a kill), the same command resumes; run on a FILE
the account already matches, it says "No changes." and exits 0.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import click
from rich.progress import Progress

from modelgates_async._client import AsyncModelGates
from modelgates_async.cli.app import (
    APIFailure,
    common_options,
    concurrency_option,
    explain,
    redis_option,
    run,
    secrets_out_option,
    settings,
)
from modelgates_async.cli.apply_run import (
    ApplyOutcome,
    ApplyPaths,
    Pending,
    SecretsAppender,
    apply_plan,
    finish_pending,
)
from modelgates_async.cli.bulk import default_secrets_path
from modelgates_async.cli.output import console, print_json
from modelgates_async.cli.plan import (
    PruneCommand,
    build_plan,
    load_pending,
    prune_option,
    read_file,
    show_plan,
)
from modelgates_async.cli.plan_model import Plan
from modelgates_async.cli.progress import progress
from modelgates_async.errors import ModelGatesError

__all__ = ["apply"]


def _confirm() -> bool:
    try:
        return click.confirm("Apply these changes?", default=False, err=True)
    except click.Abort as exc:
        if not isinstance(exc.__context__, EOFError):
            raise  # Ctrl-C at the question: interrupted (130)
        raise click.UsageError(
            "No answer to the question (stdin is closed); pass --yes to apply without asking."
        ) from None


@click.command("apply", cls=PruneCommand)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@prune_option
@click.option("--yes", "-y", is_flag=True, help="Apply without asking.")
@secrets_out_option(
    "Secrets file new keys' secrets are appended to, mode 0600 "
    "(default: FILE's name + .secrets.jsonl)."
)
@concurrency_option("Calls")
@click.option("--show-secrets", is_flag=True, help="Also print new keys' secrets.")
@redis_option
@common_options
def apply(
    file: Path,
    prune: str | None,
    yes: bool,
    out: Path | None,
    concurrency: int,
    show_secrets: bool,
) -> None:
    """Make the account's keys what FILE describes (see `plan`), after asking.

    Creates, updates, and with --prune disables (--prune=delete: deletes) the keys FILE
    does not name. Interrupted, run the same command again: it finishes what was started
    (a journal next to FILE keeps every created key's secret) and plans the rest. Exit
    status 0 (also when the account already matches, or you answer no), 1 if a change
    failed, 2 for a bad FILE (nothing sent), 130 interrupted.
    """
    desired = read_file(file)
    paths = ApplyPaths.for_file(file)
    pending = load_pending(file)
    secrets_path = pending.secrets if pending is not None else out or default_secrets_path(file)
    state = settings()
    outcome = ApplyOutcome()
    base_url = ""  # the client's, for the advice on failures
    started = pending is not None  # whether a change may have been sent

    def interrupted() -> str:
        if not started:
            return "Nothing was changed."
        where = f" New keys' secrets are in {secrets_path}." if outcome.created else ""
        return (
            f"{outcome.summary()} so far. Run the same command again to finish "
            f"(nothing is done twice).{where}"
        )

    with SecretsAppender(secrets_path) as secrets:
        try:
            secrets.check()
        except OSError as exc:
            raise click.UsageError(
                f"Cannot write the secrets file {secrets_path}: {exc.strerror or exc}. "
                "Nothing was sent."
            ) from None

        async def carry_out(
            mg: AsyncModelGates,
            action: Callable[..., Awaitable[None]],
            subject: Pending | Plan,
            bar: Progress,
            total: int,
        ) -> None:
            """Run ``finish_pending`` or ``apply_plan``, ``bar`` counting its changes."""
            with bar:
                task = bar.add_task("changes", total=total, failed=0)

                def advance(count: int) -> None:
                    bar.update(task, advance=count, failed=len(outcome.failures))
                    state.interrupted = interrupted()

                await action(
                    mg, subject, paths, secrets, outcome,
                    concurrency=concurrency, progress=advance,
                )  # fmt: skip

        async def prepare(mg: AsyncModelGates) -> Plan:
            nonlocal base_url
            base_url = mg.base_url
            if pending is not None:
                bar = progress("finishing the interrupted apply", unit="keys")
                await carry_out(mg, finish_pending, pending, bar, len(pending.specs))
            return await build_plan(mg, desired, prune)

        def secrets_failed(exc: OSError) -> APIFailure:
            return APIFailure(
                f"Could not write the secrets file {secrets_path}: {exc.strerror or exc}. "
                f"The keys made so far and their secrets are in the journal {paths.journal}; "
                "run the same command again once the file can be written (nothing is made "
                "twice)."
            )

        state.interrupted = interrupted()
        try:
            plan = run(prepare)
        except OSError as exc:
            raise secrets_failed(exc) from None
        proceed = not plan.empty
        if not state.json:
            if outcome.resumed:
                console().print(
                    f"Finished the interrupted apply: {outcome.summary()}.", soft_wrap=True
                )
            show_plan(plan, file)
        if proceed and not yes:
            proceed = _confirm()
            if not proceed and not state.json:
                console().print("Nothing was changed.")
        if proceed:
            started = True
            state.interrupted = interrupted()
            total = len(plan.creates) + len(plan.updates) + len(plan.prunes)
            bar = progress("applying", unit="changes")

            try:
                run(lambda mg: carry_out(mg, apply_plan, plan, bar, total))
            except OSError as exc:
                raise secrets_failed(exc) from None
    declined = not proceed and not plan.empty
    _report(plan, outcome, secrets_path, base_url, declined=declined, show=show_secrets)


def _report(
    plan: Plan,
    outcome: ApplyOutcome,
    secrets_path: Path,
    base_url: str,
    *,
    declined: bool,
    show: bool,
) -> None:
    failures = [
        (
            action,
            name,
            explain(error, base_url) if isinstance(error, ModelGatesError) else str(error),
        )
        for action, name, error in outcome.failures
    ]
    if settings().json:
        data: dict[str, Any] = {
            "plan": plan.to_json(),
            "declined": declined,
            "result": {
                "created": len(outcome.created),
                "updated": outcome.updated,
                "disabled": outcome.disabled,
                "deleted": outcome.deleted,
                "resumed": outcome.resumed,
                "secrets_file": str(secrets_path) if outcome.created else None,
                "keys": [
                    {
                        "line": line,
                        "name": key.data.name,
                        "hash": key.data.hash,
                        **({"key": key.key} if show else {}),
                    }
                    for line, key in outcome.created
                ],
                "errors": [
                    {"action": action, "name": name, "error": why} for action, name, why in failures
                ],
            },
        }
        print_json(data)
    elif not declined and not (plan.empty and not outcome.resumed):
        out = console()
        out.print(f"Apply complete: {outcome.summary()}.", soft_wrap=True)
        if outcome.created:
            out.print(
                f"Secrets: {secrets_path} (mode 0600). They are shown nowhere else: keep "
                "that file safe.",
                soft_wrap=True,
            )
        if show:
            for _, key in sorted(outcome.created, key=lambda pair: pair[0]):
                click.echo(f"{key.data.name}  {key.data.hash}  {key.key}")
        for action, name, why in failures:
            out.print(f"Failed to {action} {name}: {why}", soft_wrap=True)
    if failures:
        raise APIFailure(
            f"{len(failures)} change(s) failed; see above. Run the same command again to "
            "retry what is left."
        )
