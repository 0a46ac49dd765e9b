"""Writing a whole file durably, for its owner only (imports no click: apply_run uses it)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["replace_atomically"]


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
    with contextlib.suppress(OSError):  # not every platform can fsync a directory
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
