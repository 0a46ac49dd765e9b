"""An open journal of a ``create_many`` run: durable appends, locking, opening safely.

The file format is in ``_journal_format.py``. A journal is created ``0600`` with
``O_CREAT | O_EXCL`` and only ever appended to; an existing one that others may read is
refused, and an exclusive lock keeps two processes from running one journal at once.
Nothing here logs a record: outcomes hold secrets.

Writes go through a group commit: records from concurrent calls that arrive while an
``fsync`` runs share the next one, and each caller waits until its record is on disk.
The fsync runs in a worker thread, so the event loop keeps sending meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from modelgates_async._files import fsync_directory
from modelgates_async._journal_format import (
    JOURNAL_KIND,
    JOURNAL_VERSION,
    Contents,
    JournalEntry,
    apply,
    created_record,
    encode,
    fingerprint,
    parse,
    read_journal,
)
from modelgates_async.errors import JournalError, JournalMismatchError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "COMMIT_WINDOW",
    "Journal",
    "JournalEntry",
    "created_record",
    "fingerprint",
    "read_journal",
]

logger = logging.getLogger("modelgates_async")

COMMIT_WINDOW = 0.01
"""Seconds a write nobody waits for urgently may wait for others to share its fsync."""


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

    def __init__(self, path: str, fd: int, contents: Contents) -> None:
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
        contents = None if created else parse(_read_all(fd), name)
        if contents is None:  # new, or a crash before its header was written whole
            os.ftruncate(fd, 0)
            header = {"journal": JOURNAL_KIND, "v": JOURNAL_VERSION, "specs": specs}
            _write_durably(fd, encode(header))
            fsync_directory(name)
            entries = [JournalEntry(i) for i in range(len(specs))]
            return cls(name, fd, Contents(specs, entries, set(), 0))
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
        self._buffer.append(b"".join(encode(record) for record in records))
        self._waiters.append(waiter)
        for record in records:
            apply(self.entries, self.orphans, record)
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


def _set_if_pending(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _retrieve(future: asyncio.Future[None]) -> None:
    # A write nobody waits for (a "failed" record) must not warn "never retrieved".
    if not future.cancelled():
        future.exception()


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
