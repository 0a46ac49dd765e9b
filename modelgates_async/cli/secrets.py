"""Handing a new key's secret over without ever losing it.

A secret exists only in the answer that created the key, so the CLI makes sure it has
somewhere to put it *before* asking: ``--secret-file`` / ``--out`` files are created (new,
mode 0600, never an existing file) before the first API call, and a path that cannot be
created is a usage error with nothing created. Each secret is written, flushed and
fsynced as it arrives. If writing fails anyway, the secret is printed on stdout instead and
the command says the key was created. A secrets file that received nothing is removed, so a
run that created nothing leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import click

from modelgates_async.cli.app import APIFailure, settings
from modelgates_async.cli.durable import append_line, secret_line
from modelgates_async.cli.output import console, detail_table, print_json
from modelgates_async.models import CreatedKey

__all__ = ["SecretNotSaved", "SecretsFile", "hand_over_secret", "secret_line"]


class SecretNotSaved(APIFailure):
    """The key was created but its secret could not be written to its file (exit status 1)."""


class SecretsFile:
    """A new file of secrets, mode 0600, opened at once (``with SecretsFile(path) as f``).

    Raises :class:`click.UsageError` when ``path`` exists or cannot be created. On exit the
    file is closed, and removed if nothing was written to it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = 0
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise click.UsageError(
                f"{path} already exists; secrets files are never overwritten. Choose another path."
            ) from None
        except OSError as exc:
            raise click.UsageError(
                f"Cannot create {path}: {exc.strerror or exc}. Nothing was created."
            ) from None
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # whatever the umask says
        self._handle: IO[str] = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, line: str) -> None:
        """Append one line and make it durable (flush and fsync) before returning."""
        append_line(self._handle, line)
        self.written += 1

    def discard(self) -> None:
        """Close and remove the file (after a failed write left it incomplete)."""
        self.written = 0
        self.close()

    def close(self) -> None:
        """Close the file; remove it if nothing was written."""
        try:
            if not self._handle.closed:
                self._handle.close()
        except OSError:
            pass  # the write that failed already said why
        if self.written == 0:
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> SecretsFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def hand_over_secret(
    created: CreatedKey, destination: SecretsFile | None, *, json_data: dict[str, Any]
) -> None:
    """Give the new secret to the user: into ``destination`` if given, else on stdout.

    If the file cannot take it, the secret goes to stdout after all and
    :class:`SecretNotSaved` says that the key exists.
    """
    failure: OSError | None = None
    if destination is not None:
        try:
            destination.write(secret_line(created))
        except OSError as exc:
            failure = exc
            destination.discard()
    saved = destination is not None and failure is None
    if settings().json:
        print_json(
            {
                **json_data,
                **({"secret_file": str(destination.path)} if saved and destination else {}),
                **({} if saved else {"key": created.key}),
            }
        )
    else:
        out = console()
        out.print(detail_table(created.data))
        if saved and destination is not None:
            out.print(f"The secret is in {destination.path} (mode 0600); it is shown nowhere else.")
        else:
            if failure is not None and destination is not None:
                out.print(
                    f"Could not write the secret to {destination.path} "
                    f"({failure.strerror or failure}); here it is instead."
                )
            out.print("Secret (shown only this once — store it now):")
            click.echo(created.key)
    if failure is not None and destination is not None:
        raise SecretNotSaved(
            f"The key {created.data.name!r} ({created.data.hash}) was created, but its secret "
            f"could not be written to {destination.path}: {failure.strerror or failure}. "
            "The secret is printed on stdout above; store it now."
        )
