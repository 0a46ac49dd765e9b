"""The journal of a ``create_many`` run: a durable record of intents and outcomes.

A journal is a JSON Lines file (UTF-8, one record a line), created ``0600`` with
``O_CREAT | O_EXCL`` and only ever appended to::

    {"journal": "modelgates-async/create_many", "v": 1, "specs": ["<fingerprint>", ...]}
    {"i": 3, "intent": 1764600000.25}        # fsynced before spec 3's create is sent
    {"i": 3, "hash": "…", "key": "sk-…", "data": {…}}   # fsynced before it is reported
    {"i": 4, "failed": "BadRequestError"}    # the server provably made no key
    {"i": 5, "clear": 1764600100.5}          # reconciled: no key of spec 5 before this
    {"i": 5, "orphan": "<hash>"}             # an orphan of spec 5, deleted

The header's fingerprints (a digest of each spec's request body) tie the journal to its
specs. A spec is *done* when it has an outcome, *in doubt* when an intent came after its
last outcome, failure or clear, else *to do*. A crash can tear the last write: an
incomplete tail is cut off when the journal is opened again (what it held was never
reported, so never acknowledged). Nothing here logs a record: outcomes hold secrets.

Writes go through a group commit: records from concurrent calls that arrive while an
``fsync`` runs share the next one, and each caller waits until its record is on disk.
The fsync runs in a worker thread, so the event loop keeps sending meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from modelgates_async.errors import JournalError, JournalMismatchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "JOURNAL_KIND",
    "Journal",
    "JournalEntry",
    "created_record",
    "fingerprint",
    "read_journal",
]

logger = logging.getLogger("modelgates_async")

JOURNAL_KIND = "modelgates-async/create_many"
JOURNAL_VERSION = 1
COMMIT_WINDOW = 0.01
"""Seconds a write nobody waits for urgently may wait for others to share its fsync."""


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


def _apply(entries: list[JournalEntry], orphans: set[str], record: Mapping[str, Any]) -> None:
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
class _Contents:
    specs: list[str]
    entries: list[JournalEntry]
    orphans: set[str]
    valid_length: int  # bytes up to the end of the last complete record


def _parse(data: bytes, path: str) -> _Contents | None:
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
            _apply(entries, orphans, record)
        except (ValueError, TypeError, KeyError):
            raise JournalError(
                f"journal {path} is corrupt: line {number} is not a valid record", path=path
            ) from None
    return _Contents(specs, entries, orphans, valid_length)


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
    contents = _parse(data, name)
    return [] if contents is None else contents.entries


def _fsync_directory(path: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_durably(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


class Journal:
    """An open journal: the state it recorded, and durable appends (see the module).

    Open it with :meth:`open`; it holds an exclusive lock on the file until :meth:`close`,
    so two processes never run the same journal. Its ``repr`` shows counts only.
    """

    def __init__(self, path: str, fd: int, contents: _Contents) -> None:
        self.path = path
        self._fd = fd
        self.entries = contents.entries
        self.orphans = contents.orphans
        self._buffer: list[bytes] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._urgent = False
        self._wake: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        states = {"done": 0, "in_doubt": 0, "todo": 0}
        for entry in self.entries:
            states[entry.state] += 1
        return (
            f"Journal(path={self.path!r}, specs={len(self.entries)}, done={states['done']}, "
            f"in_doubt={states['in_doubt']}, todo={states['todo']})"
        )

    @classmethod
    def open(cls, path: str | os.PathLike[str], specs: Sequence[str]) -> Journal:
        """Create the journal for ``specs`` (fingerprints), or open the one at ``path``
        and check it was written for the same ones. Raises :class:`JournalError` /
        :class:`JournalMismatchError`; nothing is sent before this returns."""
        name = os.fspath(path)
        flags = os.O_RDWR | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(name, flags | os.O_CREAT | os.O_EXCL, 0o600)
            created = True
        except FileExistsError:
            try:
                fd = os.open(name, flags | getattr(os, "O_NOFOLLOW", 0))
            except OSError as exc:
                raise JournalError(
                    f"cannot open journal {name}: {exc.strerror}", path=name
                ) from None
            created = False
        except OSError as exc:
            raise JournalError(f"cannot create journal {name}: {exc.strerror}", path=name) from None
        try:
            journal = cls._start(name, fd, list(specs), created=created)
        except BaseException:
            os.close(fd)
            raise
        return journal

    @classmethod
    def _start(cls, name: str, fd: int, specs: list[str], *, created: bool) -> Journal:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise JournalError(f"journal {name} is not a regular file", path=name)
        if created:
            os.fchmod(fd, 0o600)  # whatever the umask said
        elif info.st_mode & 0o077:
            raise JournalError(
                f"journal {name} holds secrets but others may read it (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {name}` if it is "
                "yours, then retry",
                path=name,
            )
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise JournalError(
                    f"journal {name} is in use by another process", path=name
                ) from None
        contents = None if created else _parse(_read_all(fd), name)
        if contents is None:  # new, or a crash before its header was written whole
            os.ftruncate(fd, 0)
            header = {"journal": JOURNAL_KIND, "v": JOURNAL_VERSION, "specs": specs}
            _write_durably(fd, _line(header))
            _fsync_directory(name)
            entries = [JournalEntry(i) for i in range(len(specs))]
            return cls(name, fd, _Contents(specs, entries, set(), 0))
        _check_same_specs(name, contents.specs, specs)
        if contents.valid_length < info.st_size:
            os.ftruncate(fd, contents.valid_length)  # cut the torn tail off
            os.fsync(fd)
        return cls(name, fd, contents)

    @property
    def known_hashes(self) -> set[str]:
        """Hashes of the keys whose secrets this journal holds: never orphans."""
        return {e.key_hash for e in self.entries if e.key_hash is not None}

    def in_doubt(self) -> Iterator[JournalEntry]:
        """The entries sent without an outcome recorded."""
        return (e for e in self.entries if e.state == "in_doubt")

    def write(
        self, records: Sequence[Mapping[str, Any]], *, urgent: bool = False
    ) -> asyncio.Future[None]:
        """Append ``records`` (one write, one fsync shared with whatever else is waiting).

        Returns a future that is done once they are on disk, or failed with
        :class:`JournalError`; waiting on it may be cancelled without stopping the write.
        What the journal knows (``entries``) is updated at once. A write that is not
        ``urgent`` may wait up to :data:`COMMIT_WINDOW` for others (see :meth:`hurry`).
        """
        if self._fd < 0:
            raise JournalError(f"journal {self.path} is closed", path=self.path)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter.add_done_callback(_retrieve)
        self._buffer.append(b"".join(_line(record) for record in records))
        self._waiters.append(waiter)
        for record in records:
            _apply(self.entries, self.orphans, record)
        if self._flusher is None:
            self._flusher = asyncio.ensure_future(self._flush())
        if urgent:
            self.hurry()
        return waiter

    def hurry(self) -> None:
        """Someone waits for the writes under way: write them now, not after the window."""
        self._urgent = True
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def intent(self, *indices: int) -> None:
        """Record that these specs are about to be sent; returns once it is on disk."""
        now = time.time()
        await asyncio.shield(self.write([{"i": i, "intent": now} for i in indices], urgent=True))

    async def created(
        self, index: int, key_hash: str | None, key: str, data: Mapping[str, Any] | None
    ) -> None:
        """Record spec ``index``'s key and secret; returns once it is on disk."""
        await asyncio.shield(self.write([created_record(index, key_hash, key, data)], urgent=True))

    async def cleared(self, index: int, at: float) -> None:
        """Record that no key of spec ``index`` made before ``at`` is left on the server."""
        await asyncio.shield(self.write([{"i": index, "clear": at}], urgent=True))

    async def orphan(self, index: int, key_hash: str) -> None:
        """Record that the orphan ``key_hash`` of spec ``index`` was deleted."""
        await asyncio.shield(self.write([{"i": index, "orphan": key_hash}], urgent=True))

    async def _flush(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            while self._buffer:
                if not self._urgent:  # let more records join this fsync
                    self._wake = wake = loop.create_future()
                    timer = loop.call_later(COMMIT_WINDOW, _set_if_pending, wake)
                    await wake
                    timer.cancel()
                    self._wake = None
                self._urgent = False
                data, waiters = b"".join(self._buffer), self._waiters
                self._buffer, self._waiters = [], []
                try:
                    await asyncio.to_thread(_write_durably, self._fd, data)
                except OSError as exc:
                    error = JournalError(
                        f"cannot write journal {self.path}: {exc.strerror}", path=self.path
                    )
                    for waiter in waiters:
                        if not waiter.done():
                            waiter.set_exception(error)
                    continue
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._flusher = None

    async def aclose(self) -> None:
        """Wait for the writes under way, then close the file (and drop its lock)."""
        flusher = self._flusher
        if flusher is not None:
            self.hurry()
            await asyncio.shield(flusher)
        self.close()

    def close(self) -> None:
        """Close the file now (writes not yet on disk are lost: they were never reported)."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)


def created_record(
    index: int, key_hash: str | None, key: str, data: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The record of spec ``index``'s outcome: its key's hash, secret and record."""
    return {"i": index, "hash": key_hash, "key": key, "data": data}


def _set_if_pending(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _retrieve(future: asyncio.Future[None]) -> None:
    # A write nobody waits for (a "failed" record) must not warn "never retrieved".
    if not future.cancelled():
        future.exception()


def _line(record: Mapping[str, Any]) -> bytes:
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=_to_json)
    return (text + "\n").encode()


def _to_json(value: object) -> str:
    # A key's record as built (datetimes; LimitReset is a str already), in the wire format.
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    position = 0
    while True:
        chunk = os.pread(fd, 1 << 20, position)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        position += len(chunk)


def _check_same_specs(name: str, recorded: list[str], given: list[str]) -> None:
    for index, (old, new) in enumerate(zip(recorded, given, strict=False)):
        if old != new:
            raise JournalMismatchError(
                f"journal {name} was written for other specs: spec {index} differs from the "
                "one recorded (edited, reordered or another file). Resume with the same "
                "specs, or use a new journal.",
                path=name,
                index=index,
            )
    if len(recorded) != len(given):
        raise JournalMismatchError(
            f"journal {name} was written for {len(recorded)} specs, got {len(given)}. Resume "
            "with the same specs, or use a new journal.",
            path=name,
            index=min(len(recorded), len(given)),
        )
