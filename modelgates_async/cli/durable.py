"""Files the CLI writes for their owner only (mode 0600), durably: a whole file replaced
atomically, lines appended and fsynced one by one, and the one format of a secrets file's
line. Imports no click (``apply_run`` uses it)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import IO, Any

from modelgates_async.models import CreatedKey

__all__ = ["append_line", "replace_atomically", "secret_line"]


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


def append_line(handle: IO[str], line: str) -> None:
    """Append ``line`` and make it durable (flush and fsync) before returning."""
    handle.write(line + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def secret_line(created: CreatedKey, **extra: Any) -> str:
    """One JSON line of a secrets file: ``extra``, then the key's name, hash and secret."""
    return json.dumps(
        {**extra, "name": created.data.name, "hash": created.data.hash, "key": created.key}
    )
