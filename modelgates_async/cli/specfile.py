"""Reading a file of key specs (``bulk-create``): CSV as the csv module reads it, or JSONL.

- The bytes must be UTF-8 (a UTF-8 byte-order mark is skipped); any other encoding is a
  usage error naming the first bad line.
- CSV is read with ``newline=""`` and RFC 4180 quoting: a quoted field may hold commas,
  quotes (doubled) and newlines, and any Unicode (U+2028, NEL…) stays inside its field —
  only ``\\n``, ``\\r`` and ``\\r\\n`` end a row. The header names ``create()`` arguments.
- JSONL: one JSON object a line; lines end at ``\\n`` only.
- The file is read and every entry checked with the rules of ``create()`` *before*
  anything is sent: if any entry is wrong, the usage error lists each problem with its
  line and nothing is created.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import click

from modelgates_async._bulk import KeySpec, spec_arguments
from modelgates_async._request_body import create_body
from modelgates_async.cli.line_files import NotUTF8Error, csv_table, jsonl_objects, read_utf8
from modelgates_async.errors import InvalidRequestError
from modelgates_async.models import parse_datetime

__all__ = ["SPEC_FIELDS", "Row", "csv_spec", "read_specs"]

SPEC_FIELDS = (
    "name",
    "limit",
    "limit_reset",
    "include_byok_in_limit",
    "expires_at",
    "creator_user_id",
    "workspace_id",
    "external_user",
    "external_api_key",
)
SHOWN_PROBLEMS = 20
"""At most this many problems are listed (with a count of the rest)."""
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


@attrs.frozen
class Row:
    """One entry of the file: the line it starts on, its spec and its name."""

    line: int
    spec: KeySpec | Mapping[str, Any]
    name: str


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


def _text(path: Path) -> str:
    try:
        return read_utf8(path)
    except OSError as exc:
        raise click.UsageError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except NotUTF8Error as exc:
        raise click.UsageError(
            f"{path} {exc}. Save the file as UTF-8; nothing was created."
        ) from None


def _check(spec: KeySpec | Mapping[str, Any]) -> None:
    create_body(**spec_arguments(spec))  # the rules of create(), without sending anything


def _csv_rows(path: Path, text: str, problems: list[str]) -> list[Row]:
    try:
        header, records = csv_table(text, problems)
    except csv.Error as exc:
        raise click.UsageError(f"{path} line 1: {exc}") from None
    unknown = [name for name in header if name not in SPEC_FIELDS]
    if "name" not in header or unknown:
        raise click.UsageError(
            f"{path}: the header must name a 'name' column and only columns among "
            f"{', '.join(SPEC_FIELDS)}" + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    rows: list[Row] = []
    for start, record in records:
        cells = dict(zip(header, [*record, *[""] * (len(header) - len(record))], strict=True))
        try:
            spec = csv_spec(cells)
            _check(spec)
        except InvalidRequestError as exc:
            problems.append(f"line {start}: {exc.message}")
            continue
        rows.append(Row(start, spec, cells["name"].strip()))
    return rows


def _jsonl_rows(text: str, problems: list[str]) -> list[Row]:
    rows: list[Row] = []
    for number, spec in jsonl_objects(text, problems):
        try:
            _check(spec)
        except InvalidRequestError as exc:
            problems.append(f"line {number}: {exc.message}")
            continue
        rows.append(Row(number, spec, str(spec.get("name", ""))))
    return rows


def read_specs(path: Path) -> list[Row]:
    """Every entry of a ``.csv`` or ``.jsonl`` file, checked; a usage error listing each
    problem (by line) if any entry is wrong."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise click.UsageError(f"{path}: expected a .csv or .jsonl file.")
    text = _text(path)
    problems: list[str] = []
    rows = _csv_rows(path, text, problems) if suffix == ".csv" else _jsonl_rows(text, problems)
    if problems:
        shown = problems[:SHOWN_PROBLEMS]
        if len(problems) > SHOWN_PROBLEMS:
            shown.append(f"… and {len(problems) - SHOWN_PROBLEMS} more")
        raise click.UsageError(
            f"{path} has {len(problems)} problem(s); nothing was created:\n  " + "\n  ".join(shown)
        )
    return rows
