"""``bulk-create``'s journal, and the secrets file written from it.

A run keeps the SDK's ``create_many`` journal beside its secrets file, as ``OUT.journal``
(mode 0600; each spec's intent fsynced before its create is sent, each secret fsynced as it
arrives — see docs/guides/resuming.md). While that journal exists the job is unfinished, and
the same command run again resumes it: lines already done are not sent again, lines in doubt
are reconciled against the server (orphans deleted), the rest are created.

The secrets file ``OUT`` is (re)written from the journal, whole and atomically (a 0600 temp
file, fsync, rename), at the end of every run — finished, failed or interrupted — so it holds
exactly one secret per line of FILE that is done, in FILE's order. Once every line is done
the journal is removed and the secrets file is the whole record. A run that made no key and
left nothing in doubt removes its journal too: there is nothing to resume.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from modelgates_async._files import replace_atomically
from modelgates_async._journal_format import JournalEntry, read_journal
from modelgates_async.cli.specfile import Row
from modelgates_async.errors import JournalError, JournalMismatchError

__all__ = [
    "AlreadyDone",
    "count_done",
    "journal_path",
    "mismatch_message",
    "prepare_destination",
    "save_secrets",
]


def journal_path(out: Path) -> Path:
    """The journal of the run whose secrets go to ``out``: ``OUT.journal``."""
    return out.with_name(out.name + ".journal")


def prepare_destination(out: Path, journal: Path, rows: Sequence[Row]) -> list[JournalEntry]:
    """Check where the secrets go, before anything is sent; the journal's entries when a
    run is being resumed (else ``[]``). Raises :class:`AlreadyDone` when ``out`` is the
    secrets file of a finished run of these rows. Any other secrets file without a journal
    is never overwritten: a usage error."""
    if journal.exists() or journal.is_symlink():
        try:
            return read_journal(journal)
        except JournalError as exc:
            raise click.UsageError(f"{exc.message}. Nothing was sent.") from None
    if out.exists() or out.is_symlink():
        if _holds_every_line(out, rows):
            raise AlreadyDone(out)
        raise click.UsageError(
            f"{out} already exists and is not the secrets file of a finished run of this "
            f"file, nor has an unfinished run's journal ({journal.name}) beside it: secrets "
            "files are never overwritten. Choose another --out."
        )
    return []


class AlreadyDone(Exception):
    """Every line of FILE has its key already: ``path`` is the finished run's secrets file."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def _holds_every_line(out: Path, rows: Sequence[Row]) -> bool:
    """Whether ``out`` is what a finished run of ``rows`` wrote: a secret for each line."""
    try:
        with out.open(encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle]
    except (OSError, ValueError):
        return False
    try:
        return (
            bool(rows)
            and [(r["line"], str(r["name"]).strip()) for r in records]
            == [(row.line, row.name) for row in rows]
            and all(isinstance(r["key"], str) and r["key"] for r in records)
        )
    except (KeyError, TypeError):
        return False


def mismatch_message(
    source: Path, journal: Path, rows: Sequence[Row], exc: JournalMismatchError
) -> str:
    """The usage error of a resume whose FILE is not the one the journal was written for."""
    index = exc.index
    if index is not None and index < len(rows):
        where = f"line {rows[index].line} differs from the one the journal recorded"
    else:
        where = f"it has {len(rows)} entries, not the number the journal recorded"
    return (
        f"{source} changed since the unfinished run whose journal is {journal}: {where}. "
        "Nothing was sent. Resume with the file as it was (the journal knows which lines "
        "have keys), or create the new lines from a file of their own with another --out."
    )


def _secret_lines(rows: Sequence[Row], entries: Sequence[JournalEntry]) -> list[str]:
    lines = []
    for entry in entries:
        if entry.state != "done" or entry.index >= len(rows):
            continue
        row = rows[entry.index]
        data = entry.data if isinstance(entry.data, dict) else {}
        name = data.get("name", row.name)
        record = {"line": row.line, "name": name, "hash": entry.key_hash, "key": entry.key}
        lines.append(json.dumps(record) + "\n")
    return lines


def count_done(journal: Path) -> int:
    """How many lines the journal has done (0 when there is no readable journal)."""
    try:
        return sum(entry.state == "done" for entry in read_journal(journal))
    except JournalError:
        return 0


def save_secrets(out: Path, journal: Path, rows: Sequence[Row]) -> list[JournalEntry]:
    """Write ``out`` from the journal (see the module) and remove the journal when there is
    nothing left to resume. Returns the journal's entries. Raises :class:`OSError` when
    ``out`` cannot be written (the journal is kept: the secrets are still in it)."""
    try:
        entries = read_journal(journal)
    except JournalError:
        return []  # never opened (refused before any request): nothing was made
    lines = _secret_lines(rows, entries)
    if lines:
        replace_atomically(out, "".join(lines))
    states = {entry.state for entry in entries}
    if states <= {"done"} or states <= {"todo"}:
        # Every line done, or none sent without a recorded answer: nothing to resume.
        journal.unlink(missing_ok=True)
    return entries
