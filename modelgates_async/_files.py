"""Making a file's creation or replacement durable: the journal's and the CLI's files."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["fsync_directory", "replace_atomically"]


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Fsync the directory holding ``path``, so that its new name survives a power cut."""
    directory = os.path.dirname(os.path.abspath(path))
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def replace_atomically(path: Path, text: str) -> None:
    """Make ``path`` hold ``text`` durably, mode 0600: a temporary file beside it, fsync,
    rename over it, fsync the directory. A crash leaves the old file or the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask says
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    fsync_directory(path)
