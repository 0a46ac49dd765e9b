"""The lines of the CLI's secrets files: their one format, and appending one durably.
Imports no click (``apply_run`` uses it)."""

from __future__ import annotations

import json
import os
from typing import IO, Any

from modelgates_async.models import CreatedKey

__all__ = ["append_line", "secret_line"]


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
