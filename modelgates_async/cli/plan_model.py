"""The plan of ``modelgates plan`` / ``apply``: what must change for the account's keys to be
what FILE describes (:func:`make_plan`), and its JSON form (:meth:`Plan.to_json`).

How a desired key meets the live ones: by ``(workspace, name)``. No live key of that name:
create it. Exactly one: compare the fields FILE gives (a field FILE leaves out is not
managed; ``disabled`` is always compared) and update what differs. Several live keys of one
name that FILE names: an error of the plan listing their hashes — it never guesses which
one is meant. Live keys that FILE does not name are left alone, unless ``prune`` is
``"disable"`` (enabled ones are disabled) or ``"delete"`` (they are deleted); only the
workspaces FILE has entries in are pruned.

``expires_at``, ``creator_user_id`` and ``external_user`` are set when a key is created:
the API cannot change them, so a live key that differs keeps its value and the plan warns.

This module does not import click or talk to the server: the commands list the keys and
hand them in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from modelgates_async.cli.fleet_file import CREATE_ONLY_FIELDS, DesiredKey
from modelgates_async.models import APIKey, LimitReset, parse_datetime

__all__ = ["Change", "Plan", "PlanError", "Prune", "Update", "live_value", "make_plan"]

PRUNE_MODES = ("disable", "delete")


class PlanError(ValueError):
    """No plan can be made without guessing: ``problems`` lists each reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"No plan: {len(problems)} problem(s); nothing was sent:\n  " + "\n  ".join(problems)
        )


@attrs.frozen
class Change:
    """One field of one key: its live value and the value FILE wants."""

    field: str
    old: Any
    new: Any


@attrs.frozen
class Update:
    """A key changed in place: the entry, the live key, and the fields that change."""

    desired: DesiredKey
    key: APIKey
    changes: tuple[Change, ...]

    def arguments(self) -> dict[str, Any]:
        """The ``update()`` keyword arguments (without the hash) that make the changes."""
        return {change.field: change.new for change in self.changes}


@attrs.frozen
class Prune:
    """A live key FILE does not name, to disable or to delete."""

    key: APIKey
    action: str


@attrs.frozen
class Plan:
    """Everything that must change, and what needs no change."""

    creates: tuple[DesiredKey, ...]
    updates: tuple[Update, ...]
    prunes: tuple[Prune, ...]
    unchanged: int
    warnings: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether nothing is to be done."""
        return not (self.creates or self.updates or self.prunes)

    @property
    def disables(self) -> tuple[Prune, ...]:
        """The prunes that disable."""
        return tuple(p for p in self.prunes if p.action == "disable")

    @property
    def deletes(self) -> tuple[Prune, ...]:
        """The prunes that delete."""
        return tuple(p for p in self.prunes if p.action == "delete")

    def summary(self) -> str:
        """Terraform's summary line: ``Plan: 2 to create, 1 to update, 0 to disable, …``."""
        if self.empty:
            return f"No changes. {self.unchanged} key(s) already match the file."
        return (
            f"Plan: {len(self.creates)} to create, {len(self.updates)} to update, "
            f"{len(self.disables)} to disable, {len(self.deletes)} to delete "
            f"({self.unchanged} unchanged)."
        )

    def to_json(self) -> dict[str, Any]:
        """The plan for programs (documented in the CLI guide); values are raw."""
        return {
            "summary": {
                "create": len(self.creates),
                "update": len(self.updates),
                "disable": len(self.disables),
                "delete": len(self.deletes),
                "unchanged": self.unchanged,
            },
            "create": [
                {
                    "line": key.line,
                    "name": key.name,
                    "workspace_id": key.workspace_id,
                    "fields": dict(key.fields),
                }
                for key in self.creates
            ],
            "update": [
                {
                    "line": update.desired.line,
                    "name": update.key.name,
                    "hash": update.key.hash,
                    "workspace_id": update.key.workspace_id,
                    "changes": {
                        change.field: {"old": change.old, "new": change.new}
                        for change in update.changes
                    },
                }
                for update in self.updates
            ],
            "disable": [_pruned(p.key) for p in self.disables],
            "delete": [_pruned(p.key) for p in self.deletes],
            "warnings": list(self.warnings),
        }


def _pruned(key: APIKey) -> dict[str, Any]:
    return {"name": key.name, "hash": key.hash, "workspace_id": key.workspace_id}


def live_value(key: APIKey, field: str) -> Any:
    """A live key's field in the form FILE's values take (``limit_reset`` as text,
    ``expires_at`` as a datetime)."""
    value = getattr(key, field)
    if isinstance(value, LimitReset):
        return value.value
    return value


def _same(field: str, live: Any, wanted: Any) -> bool:
    if live is None or wanted is None:
        return live is None and wanted is None
    if field == "limit":
        return math.isclose(float(live), float(wanted), rel_tol=0.0, abs_tol=1e-9)
    if field == "expires_at":
        wanted_time = wanted if isinstance(wanted, datetime) else parse_datetime(str(wanted))
        return bool(live == wanted_time)
    return bool(live == wanted)


def _compare(desired: DesiredKey, key: APIKey, warnings: list[str]) -> tuple[Change, ...]:
    changes: list[Change] = []
    fixed: list[str] = []
    for field, wanted in desired.fields.items():
        live = live_value(key, field)
        if _same(field, live, wanted):
            continue
        if field in CREATE_ONLY_FIELDS:
            fixed.append(field)
        else:
            changes.append(Change(field, live, wanted))
    if fixed:
        warnings.append(
            f"line {desired.line}: {desired.name!r} ({key.hash}) differs in "
            f"{', '.join(fixed)}, which can only be set when a key is created; it is left "
            "as it is (delete the key to have it made again)"
        )
    return tuple(changes)


def make_plan(
    desired: Sequence[DesiredKey],
    live: Mapping[str | None, Sequence[APIKey]],
    *,
    prune: str | None = None,
) -> Plan:
    """The plan that brings ``live`` (keys by the workspace they were listed for, ``None``
    for the default one; disabled keys included) to ``desired``. Raises
    :class:`PlanError` when a name FILE gives matches several live keys."""
    if prune is not None and prune not in PRUNE_MODES:
        raise ValueError(f"prune must be one of {PRUNE_MODES}, got {prune!r}")
    by_identity: dict[tuple[str | None, str], list[APIKey]] = {}
    for workspace, keys in live.items():
        for key in keys:
            by_identity.setdefault((workspace, key.name), []).append(key)
    problems: list[str] = []
    creates: list[DesiredKey] = []
    updates: list[Update] = []
    warnings: list[str] = []
    unchanged = 0
    named: set[tuple[str | None, str]] = set()
    for entry in desired:
        named.add(entry.identity)
        matches = by_identity.get(entry.identity, [])
        if not matches:
            creates.append(entry)
        elif len(matches) > 1:
            hashes = ", ".join(key.hash for key in matches)
            problems.append(
                f"line {entry.line}: {len(matches)} live keys are named {entry.name!r} "
                f"({hashes}); rename or delete all but one, then plan again"
            )
        else:
            changes = _compare(entry, matches[0], warnings)
            if changes:
                updates.append(Update(entry, matches[0], changes))
            else:
                unchanged += 1
    if problems:
        raise PlanError(problems)
    prunes: list[Prune] = []
    if prune is not None:
        for identity, keys in by_identity.items():
            if identity in named:
                continue
            for key in keys:
                if prune == "delete" or not key.disabled:
                    prunes.append(Prune(key, prune))
    return Plan(tuple(creates), tuple(updates), tuple(prunes), unchanged, tuple(warnings))
