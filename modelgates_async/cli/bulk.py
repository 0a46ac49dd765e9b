"""``modelgates keys bulk-create``: reading a CSV or JSONL file of key specs (a bad line fails
alone), creating them concurrently with a progress bar, writing each secret at once to a new
0600 file, and reporting what was created and what failed (exit status 1 if any line
failed). Secrets reach the terminal only with ``--show-secrets``."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import click
from rich.console import Console
from rich.table import Table

from modelgates_async._bulk import DEFAULT_CONCURRENCY, KeySpec
from modelgates_async._client import AsyncModelGates
from modelgates_async.cli.app import EXIT_API_ERROR, common_options, explain, run, settings
from modelgates_async.cli.output import console, print_json, secret_file, secret_line
from modelgates_async.errors import InvalidRequestError, ModelGatesError
from modelgates_async.models import CreatedKey, parse_datetime

__all__ = ["LISTED_KEYS", "SPEC_FIELDS", "Row", "bulk_create", "csv_spec", "read_specs"]

SPEC_FIELDS = (
    "name",
    "limit",
    "limit_reset",
    "include_byok_in_limit",
    "expires_at",
    "creator_user_id",
    "workspace_id",
)
LISTED_KEYS = 50
"""bulk-create lists the keys it made on the terminal only up to this many."""
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


@attrs.frozen
class Row:
    """One line of a bulk-create file: its spec, or why it has none."""

    line: int
    spec: KeySpec | Mapping[str, Any] | None
    error: InvalidRequestError | None = None
    name: str = ""


def csv_spec(cells: Mapping[str, str]) -> KeySpec:
    """A spec from CSV text cells: empty is "not given", ``none`` is null."""
    values: dict[str, Any] = {}
    for field, raw in cells.items():
        text = raw.strip()
        if not text:
            continue
        null = text.lower() in ("none", "null")
        if field == "limit":
            try:
                values[field] = None if null else float(text)
            except ValueError:
                raise InvalidRequestError(
                    f"limit {text!r} is not a number", argument=field
                ) from None
        elif field == "include_byok_in_limit":
            if text.lower() not in _TRUE | _FALSE:
                raise InvalidRequestError(
                    f"include_byok_in_limit {text!r} is not true or false", argument=field
                )
            values[field] = text.lower() in _TRUE
        elif field == "expires_at":
            try:
                values[field] = None if null else parse_datetime(text)
            except ValueError:
                raise InvalidRequestError(
                    f"expires_at {text!r} is not an ISO 8601 timestamp", argument=field
                ) from None
        elif field == "name":
            values[field] = raw
        else:
            values[field] = None if null else text
    if "name" not in values:
        raise InvalidRequestError("the name is empty", argument="name")
    return KeySpec(**values)


def read_specs(path: Path) -> list[Row]:
    """The rows of a ``.csv`` (header: the create() argument names) or ``.jsonl`` file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise click.UsageError(f"{path}: expected a .csv or .jsonl file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise click.UsageError(f"Cannot read {path}: {exc.strerror}") from None
    rows: list[Row] = []
    if suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        header = reader.fieldnames or []
        unknown = [name for name in header if name not in SPEC_FIELDS]
        if "name" not in header or unknown:
            raise click.UsageError(
                f"{path}: the header must name a 'name' column and only columns among "
                f"{', '.join(SPEC_FIELDS)}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        for number, record in enumerate(reader, start=2):
            if not any(
                (value or "").strip() for value in record.values() if isinstance(value, str)
            ):
                continue
            if None in record:  # more cells than the header has names
                error = InvalidRequestError("more cells than columns in the header")
                rows.append(Row(number, None, error))
                continue
            cells = {k: v or "" for k, v in record.items()}
            name = cells.get("name", "").strip()
            try:
                rows.append(Row(number, csv_spec(cells), name=name))
            except InvalidRequestError as exc:
                rows.append(Row(number, None, exc, name=name))
        return rows
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            spec = json.loads(line)
        except ValueError as exc:
            rows.append(Row(number, None, InvalidRequestError(f"not JSON: {exc}")))
            continue
        if not isinstance(spec, dict):
            rows.append(Row(number, None, InvalidRequestError("not a JSON object")))
            continue
        rows.append(Row(number, spec, name=str(spec.get("name", ""))))
    return rows


def default_secrets_path(source: Path) -> Path:
    """Where the secrets go without ``--out``: beside FILE, named FILE's stem + .secrets.jsonl."""
    return source.with_name(source.stem + ".secrets.jsonl")


@click.command("bulk-create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="New file for the secrets, mode 0600 (default: FILE's name + .secrets.jsonl).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=DEFAULT_CONCURRENCY,
    show_default=True,
    help="Creates in flight at once (429s slow them down on their own).",
)
@click.option("--show-secrets", is_flag=True, help="Also print the secrets on the terminal.")
@common_options
def bulk_create(file: Path, out: Path | None, concurrency: int, show_secrets: bool) -> None:
    """Create one key per line of a CSV or JSONL file; secrets go to a 0600 file.

    CSV: a header row of create() argument names (name, limit, limit_reset,
    include_byok_in_limit, expires_at, creator_user_id, workspace_id); an empty cell is not
    sent, 'none' sends null. JSONL: one JSON object of those names per line. A bad line
    fails alone; the others are created. Exit status 1 if any line failed.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    rows = read_specs(file)
    out = out if out is not None else default_secrets_path(file)
    sendable = [row for row in rows if row.spec is not None]
    failures: list[tuple[Row, str]] = [(row, str(row.error)) for row in rows if row.error]
    created: list[tuple[Row, CreatedKey]] = []
    progress = Progress(
        TextColumn("creating keys"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        console=console(stderr=True),
        transient=True,
        disable=not Console(stderr=True).is_terminal,
    )

    with secret_file(out) as secrets:

        async def work(mg: AsyncModelGates) -> None:
            task = progress.add_task("create", total=len(sendable), failed=0)
            failed = 0
            specs = [row.spec for row in sendable if row.spec is not None]
            items = mg.api_keys.create_many_iter(specs, concurrency=concurrency)
            async for item in items:
                row = sendable[item.index]
                if item.value is not None:
                    # Written at once: a crash later must not lose a key already made.
                    secrets.write(secret_line(item.value, line=row.line) + "\n")
                    secrets.flush()
                    created.append((row, item.value))
                else:
                    failed += 1
                    reason = item.error
                    failures.append(
                        (
                            row,
                            explain(reason, mg.base_url)
                            if isinstance(reason, ModelGatesError)
                            else str(reason),
                        )
                    )
                progress.update(task, advance=1, failed=failed)

        with progress:
            if sendable:
                run(work)
    if not created:
        out.unlink()
    report_bulk(file, out if created else None, rows, created, failures, show_secrets)
    if failures:
        raise click.exceptions.Exit(EXIT_API_ERROR)


def report_bulk(
    source: Path,
    out: Path | None,
    rows: list[Row],
    created: list[tuple[Row, CreatedKey]],
    failures: list[tuple[Row, str]],
    show_secrets: bool,
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
    if len(created) > LISTED_KEYS and not show_secrets:
        # Thousands of rows help nobody on a terminal; the secrets file lists them all.
        out_console.print(f"{title}; each one's hash and secret are in the secrets file.")
    else:
        table = Table(title=title, title_justify="left")
        table.add_column("line", justify="right", no_wrap=True)
        table.add_column("name", no_wrap=True)
        table.add_column("hash", overflow="fold", style="cyan")
        table.add_column("label", no_wrap=True)
        if show_secrets:
            table.add_column("secret", overflow="fold")
        for row, key in created:
            cells = [str(row.line), key.data.name, key.data.hash, key.data.label]
            if show_secrets:
                cells.append(key.key)
            table.add_row(*cells)
        out_console.print(table)
    if out is not None:
        out_console.print(
            f"Secrets: {out} (mode 0600). They are shown nowhere else: keep that file safe."
        )
    if failures:
        errors = Table(title=f"{len(failures)} line(s) failed", title_justify="left")
        errors.add_column("line", justify="right")
        errors.add_column("name")
        errors.add_column("error", overflow="fold")
        for row, why in failures:
            errors.add_row(str(row.line), row.name, why)
        out_console.print(errors)
        out_console.print("Fix those lines and run bulk-create on just them (with a new --out).")
