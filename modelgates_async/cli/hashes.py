"""Key hashes as people type them: in full, or as a unique prefix (like git's commit ids).

Every command that takes a HASH accepts a prefix of at least :data:`MIN_TYPED` hex digits.
A full hash (64 hex digits) is used as is, without a listing. A prefix is resolved by
listing the account's keys — disabled and expired ones included — in the default
workspace; a prefix that matches several keys is a usage error that lists them, and one
that matches none is a "not found" API error, like a full hash the server does not know.
"""

from __future__ import annotations

import re

import click

from modelgates_async._client import AsyncModelGates
from modelgates_async.cli.formatting import status
from modelgates_async.errors import NotFoundError
from modelgates_async.models import APIKey

__all__ = ["MIN_TYPED", "resolve_hash", "resolve_key"]

MIN_TYPED = 4
"""The shortest prefix accepted (git's minimum too)."""
_FULL = re.compile(r"[0-9a-fA-F]{64}")
_PREFIX = re.compile(r"[0-9a-fA-F]+")
_SHOWN_CANDIDATES = 10


async def resolve_key(mg: AsyncModelGates, typed: str) -> APIKey:
    """The key whose hash is ``typed`` or starts with it (see the module docstring)."""
    if _FULL.fullmatch(typed) or not _PREFIX.fullmatch(typed):
        # A full hash, or something else the server may call a hash: ask for it directly
        # (an unsafe value is refused before anything is sent).
        return await mg.api_keys.get(typed)
    if len(typed) < MIN_TYPED:
        raise click.UsageError(
            f"{typed!r} is too short to name a key: give at least {MIN_TYPED} characters "
            "of its hash."
        )
    wanted = typed.lower()
    matches = [
        key
        async for key in mg.api_keys.iter(include_disabled=True, include_expired=True)
        if key.hash.lower().startswith(wanted)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(
            f"No key's hash starts with {typed!r} (disabled and expired keys included)",
            status=404,
        )
    lines = [f"  {key.hash}  {key.name} ({status(key)})" for key in matches[:_SHOWN_CANDIDATES]]
    if len(matches) > _SHOWN_CANDIDATES:
        lines.append(f"  … and {len(matches) - _SHOWN_CANDIDATES} more")
    raise click.UsageError(
        f"{typed!r} is ambiguous: {len(matches)} keys' hashes start with it:\n"
        + "\n".join(lines)
        + "\nGive more characters of the hash."
    )


async def resolve_hash(mg: AsyncModelGates, typed: str) -> str:
    """The full hash of the key ``typed`` names (itself when it is already full)."""
    if _FULL.fullmatch(typed) or not _PREFIX.fullmatch(typed):
        return typed
    return (await resolve_key(mg, typed)).hash
