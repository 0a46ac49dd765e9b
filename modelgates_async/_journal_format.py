"""The journal's file format: its records, and reading them back.

A journal is a JSON Lines file (UTF-8, one record a line)::

    {"journal": "modelgates-async/create_many", "v": 1, "specs": ["<fingerprint>", ...]}
    {"i": 3, "intent": 1764600000.25}        # on disk before spec 3's create is sent
    {"i": 3, "hash": "…", "key": "sk-…", "data": {…}}   # on disk before it is reported
    {"i": 4, "failed": "BadRequestError"}    # the server provably made no key
    {"i": 5, "clear": 1764600100.5}          # reconciled: no key of spec 5 before this
    {"i": 5, "orphan": "<hash>"}             # an orphan of spec 5, deleted

The header's fingerprints (a digest of each spec's request body) tie the journal to its
specs. A spec is *done* when it has an outcome, *in doubt* when an intent came after its
last outcome, failure or clear, else *to do*. A crash can tear the last write: an
incomplete tail (or garbage after the last record) is ignored when reading and cut off
when the journal is opened again — what it held was never reported, so never
acknowledged. A bad line *between* records is corruption, refused.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from modelgates_async.errors import JournalError

__all__ = [
    "JOURNAL_KIND",
    "JOURNAL_VERSION",
    "JournalEntry",
    "created_record",
    "encode",
    "fingerprint",
    "parse",
    "read_journal",
]

JOURNAL_KIND = "modelgates-async/create_many"
JOURNAL_VERSION = 1


def fingerprint(body: Mapping[str, Any]) -> str:
    """A short digest of a create's request body: what ties a journal to its specs."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@attrs.define
class JournalEntry:
    """What the journal knows of one spec (by ``index``): ``state`` is ``"done"``,
    ``"in_doubt"`` or ``"todo"``. A done entry has ``key_hash`` and ``key`` (the secret,
    never in ``repr``) and ``data`` (the key's record as the server sent it, or None).
    ``doubt_since`` is the time of the first intent not yet settled (in doubt only)."""

    index: int
    state: str = "todo"
    key_hash: str | None = None
    key: str | None = attrs.field(default=None, repr=False)
    data: Any = attrs.field(default=None, repr=False)
    doubt_since: float | None = None
    failed: str | None = None


def apply(entries: list[JournalEntry], orphans: set[str], record: Mapping[str, Any]) -> None:
    """Update the entries (and orphans) with one record; ValueError when it is not one."""
    index = record.get("i")
    if type(index) is not int or not 0 <= index < len(entries):
        raise ValueError("record names no spec of this journal")
    entry = entries[index]
    if "intent" in record:
        if entry.state != "done":
            if entry.state != "in_doubt":
                entry.doubt_since = float(record["intent"])
            entry.state = "in_doubt"
    elif "key" in record:
        entry.state, entry.key, entry.key_hash = "done", str(record["key"]), record.get("hash")
        entry.data, entry.doubt_since, entry.failed = record.get("data"), None, None
    elif "failed" in record or "clear" in record:
        if entry.state != "done":
            entry.state, entry.doubt_since = "todo", None
            entry.failed = record.get("failed")
    elif "orphan" in record:
        orphans.add(str(record["orphan"]))
    else:
        raise ValueError("unknown record")


@attrs.define
class Contents:
    """What a journal file holds: its specs' fingerprints, each spec's entry, the orphans
    deleted, and where the last complete record ends."""

    specs: list[str]
    entries: list[JournalEntry]
    orphans: set[str]
    valid_length: int  # bytes up to the end of the last complete record


def parse(data: bytes, path: str) -> Contents | None:
    """The journal's records; None when not even the header was written whole."""
    lines = data.split(b"\n")
    valid_length = len(data) - len(lines[-1])  # an unterminated tail was torn by a crash
    records: list[Any] = []
    offset = 0
    torn_from: int | None = None
    for number, line in enumerate(lines[:-1], start=1):
        try:
            records.append(json.loads(line))
            if torn_from is not None:
                raise JournalError(
                    f"journal {path} is corrupt: line {torn_from} is not a record, "
                    "but later lines are; it was not written by this SDK alone",
                    path=path,
                )
        except ValueError:
            # A power cut can leave garbage (zeros) after the last fsynced record: that
            # tail is cut off like a torn line, but a bad line *between* records is not.
            if torn_from is None:
                torn_from, valid_length = number, offset
        offset += len(line) + 1
    if not records:
        return None
    header = records[0]
    if (
        not isinstance(header, dict)
        or header.get("journal") != JOURNAL_KIND
        or not isinstance(header.get("specs"), list)
    ):
        raise JournalError(f"{path} is not a create_many journal", path=path)
    if header.get("v") != JOURNAL_VERSION:
        raise JournalError(
            f"journal {path} has version {header.get('v')!r}; this SDK reads {JOURNAL_VERSION}",
            path=path,
        )
    specs = [str(s) for s in header["specs"]]
    entries = [JournalEntry(i) for i in range(len(specs))]
    orphans: set[str] = set()
    for number, record in enumerate(records[1:], start=2):
        try:
            if not isinstance(record, dict):
                raise ValueError("not an object")
            apply(entries, orphans, record)
        except (ValueError, TypeError, KeyError):
            raise JournalError(
                f"journal {path} is corrupt: line {number} is not a valid record", path=path
            ) from None
    return Contents(specs, entries, orphans, valid_length)


def read_journal(path: str | os.PathLike[str]) -> list[JournalEntry]:
    """Every spec's entry in a journal, in spec order, without changing the file.

    For tools built on a journal (the CLI writes its secrets file from it): a done entry
    holds the secret in ``.key``. Raises :class:`JournalError` when the file is not a
    readable journal; a torn tail is ignored as on resume.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise JournalError(f"cannot read journal {name}: {exc.strerror}", path=name) from None
    contents = parse(data, name)
    return [] if contents is None else contents.entries


def created_record(
    index: int, key_hash: str | None, key: str, data: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The record of spec ``index``'s outcome: its key's hash, secret and record."""
    return {"i": index, "hash": key_hash, "key": key, "data": data}


def encode(record: Mapping[str, Any]) -> bytes:
    """One record as a line of the file."""
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=_to_json)
    return (text + "\n").encode()


def _to_json(value: object) -> str:
    # A key's record as built (datetimes; LimitReset is a str already), in the wire format.
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
