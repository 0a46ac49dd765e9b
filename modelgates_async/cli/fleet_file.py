"""Reading the file of ``modelgates plan`` / ``apply``: the keys an account should have.

FILE is YAML (``.yaml``/``.yml``: a list of keys, or a mapping with ``defaults`` and a
``keys`` list), CSV (a header row of field names) or JSONL (one JSON object a line). Each
entry is one key, identified by its ``name`` within its workspace (``workspace_id``; the
default workspace when absent). Its fields are those of ``create()``/``update()`` plus
``disabled`` and ``external_user`` (:data:`FLEET_FIELDS`).

The whole file is read and checked, with the rules of ``create()``, before anything is
sent: every problem (unknown field, wrong type, negative limit, bad date, not UTF-8, YAML
or JSON syntax, a name given twice) becomes one line of :class:`FleetFileError`, with the
line it is on. This module does not import click: the commands turn the error into a usage
error (exit status 2).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs

from modelgates_async._validation import (
    check_bool,
    check_expires_at,
    check_limit,
    check_limit_reset,
    check_name,
    check_optional_str,
    check_workspace_id,
)
from modelgates_async.cli.fleet_yaml import yaml_entries
from modelgates_async.cli.line_files import NotUTF8Error, csv_table, jsonl_objects, read_utf8
from modelgates_async.errors import InvalidRequestError

__all__ = [
    "CREATE_ONLY_FIELDS",
    "FLEET_FIELDS",
    "SUFFIXES",
    "DesiredKey",
    "FleetFileError",
    "read_fleet",
]

FLEET_FIELDS = (
    "name",
    "limit",
    "limit_reset",
    "include_byok_in_limit",
    "disabled",
    "expires_at",
    "creator_user_id",
    "external_user",
    "workspace_id",
)
CREATE_ONLY_FIELDS = ("expires_at", "creator_user_id", "external_user")
"""Fields set when a key is created: the API has no update for them."""
SUFFIXES = (".yaml", ".yml", ".csv", ".jsonl", ".ndjson")
SHOWN_PROBLEMS = 30
"""At most this many problems are listed (with a count of the rest)."""
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_NULL = frozenset({"none", "null"})


class FleetFileError(ValueError):
    """FILE cannot be used: ``problems`` lists each one (``"line 3: ..."``)."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        shown = problems[:SHOWN_PROBLEMS]
        if len(problems) > SHOWN_PROBLEMS:
            shown.append(f"… and {len(problems) - SHOWN_PROBLEMS} more")
        super().__init__(
            f"{path} has {len(problems)} problem(s); nothing was sent:\n  " + "\n  ".join(shown)
        )


@attrs.frozen
class DesiredKey:
    """One key as FILE wants it: where it is written, its identity, and the fields FILE
    gives (checked and normalised: ``limit`` a float or None, ``limit_reset`` text or None,
    ``expires_at`` an ISO 8601 UTC string or None). ``disabled`` is always there: an entry
    is an enabled key unless it says ``disabled: true``."""

    line: int
    name: str
    workspace_id: str | None
    fields: Mapping[str, Any]

    @property
    def identity(self) -> tuple[str | None, str]:
        """``(workspace_id, name)``: what ties this entry to a live key."""
        return (self.workspace_id, self.name)


def _limit(value: Any) -> float | None:
    checked = check_limit(value)
    return None if checked is None else float(checked)


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "name": check_name,
    "limit": _limit,
    "limit_reset": check_limit_reset,
    "include_byok_in_limit": lambda v: check_bool(v, "include_byok_in_limit"),
    "disabled": lambda v: check_bool(v, "disabled"),
    "expires_at": check_expires_at,
    "creator_user_id": lambda v: check_optional_str(v, "creator_user_id"),
    "external_user": lambda v: None if v is None else check_name(v, "external_user"),
    "workspace_id": check_workspace_id,
}


def _entry(line: int, raw: Mapping[str, Any], problems: list[str]) -> DesiredKey | None:
    """Check one entry's fields, each on its own, so that every problem is reported."""
    where = f"line {line}"
    values: dict[str, Any] = {}
    ok = True
    for field, value in raw.items():
        if field not in _CHECKS:
            problems.append(f"{where}: unknown field {field!r} (fields: {', '.join(FLEET_FIELDS)})")
            ok = False
            continue
        try:
            values[field] = _CHECKS[field](value)
        except InvalidRequestError as exc:
            problems.append(f"{where}: {exc.message}")
            ok = False
    if "name" not in raw:
        problems.append(f"{where}: no name (every key needs one: it identifies the key)")
        ok = False
    if not ok:
        return None
    name = values.pop("name")
    workspace = values.pop("workspace_id", None)
    values.setdefault("disabled", False)
    return DesiredKey(line, name, workspace, values)


def _decode(path: Path) -> str:
    try:
        return read_utf8(path)
    except OSError as exc:
        raise FleetFileError(path, [f"cannot read it: {exc.strerror or exc}"]) from None
    except NotUTF8Error as exc:
        raise FleetFileError(path, [f"{exc}; save it as UTF-8"]) from None


def _csv_cell(field: str, text: str) -> Any:
    """A CSV text cell as a value: empty is "not given" (``None`` here is null)."""
    lowered = text.strip().lower()
    if field == "name":
        return text
    if lowered in _NULL:
        return None
    if field == "limit":
        try:
            return float(lowered)
        except ValueError:
            return text  # the check says "must be a number"
    if field in ("include_byok_in_limit", "disabled"):
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        return text
    return text.strip()


def _csv_entries(text: str, problems: list[str]) -> list[tuple[int, dict[str, Any]]]:
    try:
        header, records = csv_table(text, problems)
    except csv.Error as exc:
        problems.append(f"line 1: {exc}")
        return []
    unknown = [name for name in header if name not in FLEET_FIELDS]
    if unknown:
        problems.append(
            f"line 1: unknown column(s) {', '.join(map(repr, unknown))} "
            f"(fields: {', '.join(FLEET_FIELDS)})"
        )
    if "name" not in header:
        problems.append("line 1: the header has no 'name' column")
    if problems:
        return []
    entries: list[tuple[int, dict[str, Any]]] = []
    for start, record in records:
        cells = zip(header, record, strict=False)  # missing trailing cells: not given
        entries.append((start, {f: _csv_cell(f, cell) for f, cell in cells if cell.strip()}))
    return entries


def _duplicates(keys: list[DesiredKey], problems: list[str]) -> None:
    lines: dict[tuple[str | None, str], list[int]] = {}
    for key in keys:
        lines.setdefault(key.identity, []).append(key.line)
    for (workspace, name), where in lines.items():
        if len(where) > 1:
            space = f"workspace {workspace}" if workspace else "the default workspace"
            problems.append(
                f"lines {', '.join(map(str, where))}: the name {name!r} is given "
                f"{len(where)} times in {space}; a name must identify one key"
            )


def read_fleet(path: Path) -> list[DesiredKey]:
    """Every key FILE describes, checked; :class:`FleetFileError` lists each problem."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FleetFileError(path, [f"expected a {', '.join(SUFFIXES)} file"])
    text = _decode(path)
    problems: list[str] = []
    if suffix in (".yaml", ".yml"):
        entries = yaml_entries(text, problems)
    elif suffix == ".csv":
        entries = _csv_entries(text, problems)
    else:
        entries = list(jsonl_objects(text, problems))
    keys = [key for line, raw in entries if (key := _entry(line, raw, problems)) is not None]
    _duplicates(keys, problems)
    if problems:
        raise FleetFileError(path, sorted(problems, key=_line_of))
    return keys


def _line_of(problem: str) -> int:
    """The first line number a problem names, to list problems in file order."""
    head = problem.split(":", 1)[0].split()
    number = head[1].rstrip(",") if len(head) > 1 else ""
    return int(number) if number.isdigit() else 0
