"""``modelgates keys bulk-create``: creating the keys of a CSV or JSONL file (read and checked
as a whole first, by :mod:`~modelgates_async.cli.specfile`) concurrently, with progress on a
terminal, and reporting what was created and what the server refused (exit status 1 if any).

The run is journaled (:mod:`~modelgates_async.cli.bulk_journal`): the same command run
again after Ctrl-C, a kill or a power cut resumes it, never making a second key for a line,
and the 0600 secrets file ends with exactly one secret per line of FILE. Secrets reach the
terminal only with ``--show-secrets``. The first Ctrl-C lets the creates in flight finish,
saves the secrets, and ends with a summary (exit status 130); a second one stops at once
(the journal still resumes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

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
from modelgates_async.cli.bulk_journal import (
    AlreadyDone,
    count_done,
    journal_path,
    mismatch_message,
    prepare_destination,
    save_secrets,
)
from modelgates_async.cli.keytable import unique_prefixes
from modelgates_async.cli.output import console, print_json
from modelgates_async.cli.progress import progress
from modelgates_async.cli.specfile import Row, read_specs
from modelgates_async.errors import (
    CreatedKeyValidationError,
    JournalError,
    JournalMismatchError,
    ModelGatesError,
)
from modelgates_async.models import CreatedKey

__all__ = ["LISTED_KEYS", "bulk_create", "default_secrets_path"]

LISTED_KEYS = 50
"""bulk-create lists the keys it made on the terminal only up to this many."""


def default_secrets_path(source: Path) -> Path:
    """Where the secrets go without ``--out``: beside FILE, named FILE's stem + .secrets.jsonl."""
    return source.with_name(source.stem + ".secrets.jsonl")


@click.command("bulk-create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@secrets_out_option(
    "The secrets file, mode 0600 (default: FILE's name + .secrets.jsonl); its journal "
    "is OUT.journal until every line is done."
)
@concurrency_option("Creates")
@click.option("--show-secrets", is_flag=True, help="Also print the secrets on the terminal.")
@redis_option
@common_options
def bulk_create(file: Path, out: Path | None, concurrency: int, show_secrets: bool) -> None:
    """Create one key per line of a CSV or JSONL file; secrets go to a 0600 file.

    CSV: a header row of create() argument names (name, limit, limit_reset,
    include_byok_in_limit, expires_at, creator_user_id, workspace_id, external_user,
    external_api_key); an empty cell is not sent, 'none' sends null (for the external
    fields: none); RFC 4180 quoting. JSONL: one JSON object of those names per line.
    The file must be UTF-8 and every line valid, else nothing is created (exit 2).
    A line the server refuses fails alone; exit status 1 if any did.

    Interrupted (Ctrl-C, a kill, a crash) or with failed lines? Run the same command
    again: it resumes from OUT.journal, creates only what is missing (never a second key
    for a line) and ends with exactly one secret per line of FILE in OUT.

    Many workers on one account? Give each --redis URL (or MODELGATES_REDIS_URL): they
    share one rate limit through that Redis instead of each growing until refused.
    """
    rows = read_specs(file)
    out = out if out is not None else default_secrets_path(file)
    journal = journal_path(out)
    try:
        earlier = sum(entry.state == "done" for entry in prepare_destination(out, journal, rows))
    except AlreadyDone:
        report_done(file, out, len(rows))
        return
    failures: list[tuple[Row, str]] = []
    created: list[tuple[Row, CreatedKey]] = []
    state = settings()
    if earlier and not state.json:
        click.echo(
            f"Resuming from {journal}: {earlier} of {len(rows)} line(s) already done.", err=True
        )
    bar = progress("creating keys")

    async def work(mg: AsyncModelGates) -> None:
        task = bar.add_task("create", total=len(rows), failed=0)
        items = mg.api_keys.create_many_iter(
            [row.spec for row in rows], concurrency=concurrency, journal=journal
        )
        opened = False
        try:
            async for item in items:
                opened = True
                row = rows[item.index]
                if item.value is not None:
                    created.append((row, item.value))
                elif not isinstance(item.error, CreatedKeyValidationError):
                    # (A key whose record broke the schema has its secret in the journal.)
                    reason = item.error
                    why = (
                        explain(reason, mg.base_url)
                        if isinstance(reason, ModelGatesError)
                        else str(reason)
                    )
                    failures.append((row, why))
                bar.update(task, advance=1, failed=len(failures))
        except JournalMismatchError as exc:
            raise click.UsageError(mismatch_message(file, journal, rows, exc)) from None
        except JournalError as exc:
            if opened:
                raise
            raise click.UsageError(f"{exc.message}. Nothing was sent.") from None

    def save() -> tuple[int, str | None]:
        """Write the secrets file from the journal: how many lines are done, and what went
        wrong if it could not be written."""
        try:
            entries = save_secrets(out, journal, rows)
        except OSError as exc:
            done = count_done(journal)
            return done, (
                f"Could not write {out} ({exc.strerror or exc}); every secret is in {journal} "
                "(mode 0600). Free the space or fix the path, then run the same command again."
            )
        return sum(entry.state == "done" for entry in entries), None

    try:
        with bar:
            if rows:
                run(work)
    except KeyboardInterrupt:
        done, problem = save()
        summary = interrupted_summary(file, out, journal, len(rows), done, failures)
        state.interrupted = summary if problem is None else f"{summary} {problem}"
        raise
    except APIFailure as exc:
        _, problem = save()
        if problem is not None:
            raise APIFailure(f"{exc.message} {problem}") from None
        raise
    done, problem = save()
    if problem is not None:
        raise APIFailure(problem)
    report_bulk(file, out if done else None, rows, created, failures, show_secrets, earlier)
    if failures:
        kept = f" ({journal} remembers the rest)" if journal.exists() else ""
        raise APIFailure(
            f"{len(failures)} of {len(rows)} line(s) failed; see above. Run the same command "
            f"again to retry them{kept}."
        )


def report_done(source: Path, out: Path, lines: int) -> None:
    """What a run of a file that a finished run made every key of says: nothing to do."""
    if settings().json:
        print_json(
            {
                "file": str(source),
                "lines": lines,
                "created": 0,
                "created_earlier": lines,
                "failed": 0,
                "secrets_file": str(out),
                "keys": [],
                "errors": [],
            }
        )
        return
    console().print(
        f"Nothing to do: every line of {source} has its key already (made by an earlier "
        f"run); the secrets are in {out}.",
        soft_wrap=True,
    )


def interrupted_summary(
    source: Path,
    out: Path,
    journal: Path,
    total: int,
    done: int,
    failures: list[tuple[Row, str]],
) -> str:
    """What an interrupted bulk-create leaves behind, and how to finish the job."""
    rest = total - done - len(failures)
    where = f" Their secrets are in {out} (mode 0600)." if done else ""
    resume = (
        f" Run the same command again to finish: it resumes from {journal} and never makes "
        "a second key for a line."
        if journal.exists()
        else ""
    )
    return (
        f"{done} of {total} key(s) created, {len(failures)} failed, {rest} not started "
        f"(or not confirmed) from {source}.{where}{resume}"
    )


def report_bulk(
    source: Path,
    out: Path | None,
    rows: list[Row],
    created: list[tuple[Row, CreatedKey]],
    failures: list[tuple[Row, str]],
    show_secrets: bool,
    earlier: int = 0,
) -> None:
    """Print what bulk-create did: the keys made (a table, or a count past LISTED_KEYS), where
    the secrets are, and the lines that failed with why; JSON with ``--json``."""
    created.sort(key=lambda pair: pair[0].line)
    failures.sort(key=lambda pair: pair[0].line)
    if settings().json:
        data: dict[str, Any] = {
            "file": str(source),
            "lines": len(rows),
            "created": len(created),
            "created_earlier": earlier,
            "failed": len(failures),
            "secrets_file": None if out is None else str(out),
            "keys": [
                {
                    "line": row.line,
                    "name": key.data.name,
                    "hash": key.data.hash,
                    **({"key": key.key} if show_secrets else {}),
                }
                for row, key in created
            ],
            "errors": [{"line": row.line, "name": row.name, "error": why} for row, why in failures],
        }
        print_json(data)
        return
    out_console = console()
    title = f"Created {len(created)} of {len(rows)} keys from {source}"
    if earlier:
        title += f" ({earlier} of them by an earlier, interrupted run)"
    if len(created) > LISTED_KEYS and not show_secrets:
        # Thousands of rows help nobody on a terminal; the secrets file lists them all.
        out_console.print(
            f"{title}; each one's hash and secret are in the secrets file.", soft_wrap=True
        )
    else:
        prefixes = unique_prefixes([key.data.hash for _, key in created])
        out_console.print(title, soft_wrap=True)
        table = Table()
        table.add_column("line", justify="right", no_wrap=True)
        table.add_column("name", overflow="fold")  # wraps: the one column that may give way
        shortest = max((len(prefix) for prefix in prefixes.values()), default=4)
        table.add_column("hash", no_wrap=True, style="cyan", min_width=shortest)
        table.add_column("label", no_wrap=True, overflow="ellipsis")
        for row, key in created:
            table.add_row(str(row.line), key.data.name, prefixes[key.data.hash], key.data.label)
        out_console.print(table)
        if show_secrets:
            # Plain lines, never folded by a table: a secret must copy whole.
            for row, key in created:
                click.echo(f"line {row.line}  {key.data.hash}  {key.key}")
    if out is not None:
        out_console.print(
            f"Secrets: {out} (mode 0600). They are shown nowhere else: keep that file safe.",
            soft_wrap=True,  # a path folded by rich cannot be copied
        )
    if failures:
        errors = Table(title=f"{len(failures)} line(s) failed", title_justify="left")
        errors.add_column("line", justify="right")
        errors.add_column("name")
        errors.add_column("error", overflow="fold")
        for row, why in failures:
            errors.add_row(str(row.line), row.name, why)
        out_console.print(errors)
        out_console.print(
            "Run the same command again to retry them. To change a line instead, put it in a "
            "file of its own and run bulk-create on that (with another --out)."
        )
