"""Carrying out a plan (``modelgates apply``) with the bulk machinery, resumably.

Order: creates first (``create_many(..., journal=...)``), then one ``update_many`` for the
updates, the disables and the new keys FILE wants disabled, then ``delete_many``. Each runs
at bounded concurrency behind the client's adaptive limiter.

**Resuming.** Updates and deletes are idempotent: after an interruption, planning again
finds what is left of them. Creates are not, and a re-plan after a partial apply gives a
different list of creates — so it could not resume the journal, which must be given the
same specs. So, before the first create is sent, the creates' arguments are written to a
*pending* file next to FILE (``FILE.apply-pending.json``, mode 0600, with the secrets
file's path), and the journal sits beside it (``FILE.apply-journal``). The next ``apply``
of FILE that finds a pending file first finishes those creates with the same specs and the
same journal (done ones come back from the journal with their secrets, those in doubt are
reconciled: no second key, no lost secret), then removes both files and plans again.

New keys' secrets are appended, one JSON line each, to a secrets file (mode 0600; a secret
already in it is not written twice). This module does not import click.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import attrs

from modelgates_async._client import AsyncModelGates
from modelgates_async._files import replace_atomically
from modelgates_async.cli.durable import append_line, secret_line
from modelgates_async.cli.fleet_file import DesiredKey
from modelgates_async.cli.plan_model import Plan
from modelgates_async.errors import APIStatusError
from modelgates_async.models import APIKey, CreatedKey

__all__ = [
    "ApplyOutcome",
    "ApplyPaths",
    "Pending",
    "SecretsAppender",
    "apply_plan",
    "create_arguments",
    "finish_pending",
    "list_live",
]

PENDING_VERSION = 1
PAGE = 100
"""Keys a page of ``GET /keys``: listing progress is reported a page at a time."""
Progress = Callable[[int], None]
"""Called with the number of changes just finished (failed ones included)."""


@attrs.frozen
class ApplyPaths:
    """Where an apply of FILE keeps its pending creates and its journal (next to FILE)."""

    pending: Path
    journal: Path

    @classmethod
    def for_file(cls, file: Path) -> ApplyPaths:
        """The paths for ``file``: ``FILE.apply-pending.json`` and ``FILE.apply-journal``."""
        return cls(
            file.with_name(file.name + ".apply-pending.json"),
            file.with_name(file.name + ".apply-journal"),
        )


@attrs.frozen
class Pending:
    """Creates an interrupted apply had started: their arguments, FILE lines, desired
    ``disabled``, and the secrets file they write to."""

    specs: tuple[Mapping[str, Any], ...]
    lines: tuple[int, ...]
    disabled: tuple[bool, ...]
    secrets: Path

    def save(self, path: Path) -> None:
        """Write durably (a temporary file, fsync, rename), mode 0600."""
        data = {
            "v": PENDING_VERSION,
            "secrets": str(self.secrets),
            "creates": [
                {"line": line, "disabled": off, "spec": dict(spec)}
                for spec, line, off in zip(self.specs, self.lines, self.disabled, strict=True)
            ],
        }
        replace_atomically(path, json.dumps(data))

    @classmethod
    def load(cls, path: Path) -> Pending | None:
        """The pending creates at ``path``, or None when there are none."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            creates = data["creates"]
            return cls(
                tuple(dict(item["spec"]) for item in creates),
                tuple(int(item["line"]) for item in creates),
                tuple(bool(item["disabled"]) for item in creates),
                Path(data["secrets"]),
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"cannot read {path} ({exc!r}): it lists the creates an interrupted apply "
                "had started; restore it, or remove it and its journal once you have checked "
                "the account's keys"
            ) from None


class SecretsAppender:
    """A secrets file (JSON lines, mode 0600) that new secrets are appended to, each
    flushed and fsynced at once; a secret whose hash is already in it is skipped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.written = 0
        self._known: set[str] = set()
        self._handle: IO[str] | None = None

    def _open(self) -> IO[str]:
        if self._handle is None:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            if mode & 0o077:
                os.close(fd)
                raise OSError(f"{self.path} may be read by others (mode {mode:04o})")
            self._handle = os.fdopen(fd, "a", encoding="utf-8")
            with contextlib.suppress(OSError), open(self.path, encoding="utf-8") as existing:
                for line in existing:
                    with contextlib.suppress(ValueError, AttributeError):
                        self._known.add(json.loads(line)["hash"])
        return self._handle

    def check(self) -> None:
        """Fail now (``OSError``) if the file cannot be written, before anything is sent."""
        self._open()

    def write(self, created: CreatedKey, **extra: Any) -> None:
        """Append the key's line and make it durable before returning."""
        handle = self._open()
        if created.data.hash in self._known:
            return
        append_line(handle, secret_line(created, **extra))
        self._known.add(created.data.hash)
        self.written += 1

    def close(self) -> None:
        """Close the file; remove it if it was created empty by this run."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            with contextlib.suppress(OSError):
                if self.path.stat().st_size == 0:
                    self.path.unlink()

    def __enter__(self) -> SecretsAppender:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@attrs.define
class ApplyOutcome:
    """What an apply did: the keys made (entry line, key), counts, and each failure as
    ``(action, name, error)``."""

    created: list[tuple[int, CreatedKey]] = attrs.Factory(list)
    updated: int = 0
    disabled: int = 0
    deleted: int = 0
    failures: list[tuple[str, str, Exception]] = attrs.Factory(list)
    resumed: int = 0
    """Creates of an interrupted apply finished first."""

    def summary(self) -> str:
        """``3 created, 1 updated, 0 disabled, 0 deleted, 0 failed``."""
        return (
            f"{len(self.created)} created, {self.updated} updated, {self.disabled} disabled, "
            f"{self.deleted} deleted, {len(self.failures)} failed"
        )


def create_arguments(key: DesiredKey) -> dict[str, Any]:
    """The ``create()`` arguments of a new key (``disabled`` is an update after it)."""
    arguments: dict[str, Any] = {"name": key.name}
    if key.workspace_id is not None:
        arguments["workspace_id"] = key.workspace_id
    arguments.update((f, v) for f, v in key.fields.items() if f != "disabled")
    return arguments


async def list_live(
    mg: AsyncModelGates,
    workspaces: Sequence[str | None],
    progress: Progress | None = None,
) -> dict[str | None, list[APIKey]]:
    """Every key (disabled and expired ones included: a name is taken while its key
    exists) of each workspace, ``None`` the default one;
    ``progress`` is called with the size of each page as it arrives."""
    live: dict[str | None, list[APIKey]] = {}
    for workspace in workspaces:
        keys = live[workspace] = []
        async for key in mg.api_keys.iter(
            include_disabled=True, workspace_id=workspace, include_expired=True
        ):
            keys.append(key)
            if progress is not None and len(keys) % PAGE == 0:
                progress(PAGE)
    return live


_IN_DOUBT_STATUSES = frozenset({408, 429})
"""4xx answers after which the server may still make the key (the create is retried)."""


def _definite(error: Exception) -> bool:
    """Whether a failed create provably made no key (a 4xx other than 408/429)."""
    return (
        isinstance(error, APIStatusError)
        and 400 <= error.status < 500
        and error.status not in _IN_DOUBT_STATUSES
    )


async def _create(
    mg: AsyncModelGates,
    pending: Pending,
    paths: ApplyPaths,
    secrets: SecretsAppender,
    outcome: ApplyOutcome,
    concurrency: int,
    progress: Progress,
) -> list[str]:
    """Run the pending creates with the journal; the hashes of new keys to disable."""
    to_disable: list[str] = []
    creates = mg.api_keys.create_many_iter(
        list(pending.specs), concurrency=concurrency, journal=paths.journal
    )
    async with contextlib.aclosing(creates):
        async for item in creates:
            line = pending.lines[item.index]
            if item.value is not None:
                # On disk before it counts: a crash later must not lose a key made.
                secrets.write(item.value, line=line)
                outcome.created.append((line, item.value))
                if pending.disabled[item.index]:
                    to_disable.append(item.value.data.hash)
            else:
                assert item.error is not None
                name = str(pending.specs[item.index].get("name"))
                outcome.failures.append(("create", name, item.error))
            progress(1)
    if all(_definite(error) for action, _, error in outcome.failures if action == "create"):
        paths.pending.unlink(missing_ok=True)
        paths.journal.unlink(missing_ok=True)
    return to_disable


async def finish_pending(
    mg: AsyncModelGates,
    pending: Pending,
    paths: ApplyPaths,
    secrets: SecretsAppender,
    outcome: ApplyOutcome,
    *,
    concurrency: int,
    progress: Progress,
) -> None:
    """Finish the creates of an interrupted apply (same specs, same journal)."""
    to_disable = await _create(mg, pending, paths, secrets, outcome, concurrency, progress)
    outcome.resumed = len(pending.specs)
    disables = [(key_hash, {"disabled": True}, "create") for key_hash in to_disable]
    await _update(mg, disables, outcome, concurrency)


async def _update(
    mg: AsyncModelGates,
    changes: list[tuple[str, dict[str, Any], str]],
    outcome: ApplyOutcome,
    concurrency: int,
    progress: Progress | None = None,
) -> None:
    if not changes:
        return
    items = mg.api_keys.update_many_iter(
        [(key_hash, arguments) for key_hash, arguments, _ in changes], concurrency=concurrency
    )
    async with contextlib.aclosing(items):
        async for item in items:
            key_hash, _, action = changes[item.index]
            if item.value is None:
                assert item.error is not None
                outcome.failures.append((action, key_hash, item.error))
            elif action == "update":
                outcome.updated += 1
            elif action == "disable":
                outcome.disabled += 1
            if progress is not None and action != "create":
                progress(1)


async def apply_plan(
    mg: AsyncModelGates,
    plan: Plan,
    paths: ApplyPaths,
    secrets: SecretsAppender,
    outcome: ApplyOutcome,
    *,
    concurrency: int,
    progress: Progress,
) -> None:
    """Make the plan's changes (see the module docstring for the order and the resume)."""
    to_disable: list[str] = []
    if plan.creates:
        pending = Pending(
            tuple(create_arguments(key) for key in plan.creates),
            tuple(key.line for key in plan.creates),
            tuple(bool(key.fields.get("disabled")) for key in plan.creates),
            secrets.path,
        )
        pending.save(paths.pending)  # before the first create is sent
        to_disable = await _create(mg, pending, paths, secrets, outcome, concurrency, progress)
    changes: list[tuple[str, dict[str, Any], str]] = [
        (update.key.hash, update.arguments(), "update") for update in plan.updates
    ]
    changes += [(prune.key.hash, {"disabled": True}, "disable") for prune in plan.disables]
    changes += [(key_hash, {"disabled": True}, "create") for key_hash in to_disable]
    await _update(mg, changes, outcome, concurrency, progress)
    if plan.deletes:
        hashes = [prune.key.hash for prune in plan.deletes]
        items = mg.api_keys.delete_many_iter(hashes, concurrency=concurrency)
        async with contextlib.aclosing(items):
            async for item in items:
                if item.error is not None:
                    outcome.failures.append(("delete", hashes[item.index], item.error))
                else:
                    outcome.deleted += 1
                progress(1)
