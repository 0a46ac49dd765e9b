"""Configuration profiles for ``modelgates``: ``config.toml`` in the user's config directory.

The file is ``$MODELGATES_CONFIG`` if set, else ``config.toml`` in
:func:`click.get_app_dir` ("modelgates"): ``$XDG_CONFIG_HOME/modelgates/`` (default
``~/.config/modelgates/``) on Linux and other Unixes, ``~/Library/Application
Support/modelgates/`` on macOS, ``%APPDATA%\\modelgates\\`` on Windows. Example::

    default_profile = "local"

    [profiles.local]
    base_url = "http://127.0.0.1:8080/api/v1"
    api_key_env = "MODELGATES_LOCAL_KEY"        # read the key from this variable

    [profiles.prod]
    api_key_command = "pass show modelgates/prod"   # or run this; its stdout is the key
    app_title = "Tenant provisioning"
    redis_url = "redis://redis.internal:6379/0"    # --redis for the commands that take it
    redis_key = "modelgates-prod"                  # --redis-key: the limit shared there

The profile used is ``--profile``, else ``$MODELGATES_PROFILE``, else ``default_profile``,
else a profile named ``default`` if there is one. A key written into the file itself
(``api_key = "…"``) is refused unless the file is private to its owner (``chmod 600``).
"""

from __future__ import annotations

import importlib
import os
import shlex
import stat
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import click

__all__ = ["PROFILE_FIELDS", "Profile", "config_path", "load_profile"]

PROFILE_FIELDS = (
    "base_url",
    "api_key",
    "api_key_env",
    "api_key_command",
    "app_title",
    "http_referer",
    "timeout",
    "redis_url",
    "redis_key",
)
_COMMAND_TIMEOUT = 30.0


@attrs.frozen
class Profile:
    """The settings one profile gives (None: not set there)."""

    name: str | None = None
    base_url: str | None = None
    api_key: str | None = attrs.field(default=None, repr=False)
    app_title: str | None = None
    http_referer: str | None = None
    timeout: float | None = None
    redis_url: str | None = attrs.field(default=None, repr=False)  # may hold a password
    redis_key: str | None = None


def config_path() -> Path:
    """Where the configuration file is (whether or not it exists)."""
    explicit = os.environ.get("MODELGATES_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(click.get_app_dir("modelgates")) / "config.toml"


def _parse_toml(text: str) -> dict[str, Any]:
    # tomllib is in the standard library from 3.11; the cli extra brings tomli for 3.10.
    module = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    parsed: dict[str, Any] = module.loads(text)
    return parsed


def load_profile(selected: str | None) -> Profile:
    """The profile ``selected`` (or the default one) from the config file; an empty
    :class:`Profile` when there is no file and none was asked for.

    Every problem (no such profile, bad TOML, unknown fields, a key in a file others can
    read, a failing ``api_key_command``) is a :class:`click.UsageError` saying what to fix.
    """
    path = config_path()
    if not path.is_file():
        if selected:
            raise click.UsageError(f"Profile {selected!r} asked for, but there is no {path}.")
        return Profile()
    try:
        text = path.read_text(encoding="utf-8")
        document = _parse_toml(text)
    except OSError as exc:
        raise click.UsageError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"{path} is not valid TOML: {exc}") from None
    profiles = document.get("profiles", {})
    if not isinstance(profiles, Mapping):
        raise click.UsageError(f"{path}: 'profiles' must be a table of [profiles.NAME] tables.")
    name = (
        selected
        or document.get("default_profile")
        or ("default" if "default" in profiles else None)
    )
    if name is None:
        return Profile()
    if name not in profiles or not isinstance(profiles[name], Mapping):
        known = ", ".join(sorted(profiles)) or "none"
        raise click.UsageError(f"{path} has no profile {name!r} (profiles: {known}).")
    return _profile(path, str(name), profiles[name])


def _profile(path: Path, name: str, table: Mapping[str, Any]) -> Profile:
    unknown = sorted(set(table) - set(PROFILE_FIELDS))
    if unknown:
        raise click.UsageError(
            f"{path}, profile {name!r}: unknown field(s) {', '.join(unknown)}; "
            f"known: {', '.join(PROFILE_FIELDS)}."
        )
    for field in PROFILE_FIELDS:
        number = field == "timeout"
        expected = (int, float) if number else str
        if field in table and not isinstance(table[field], expected):
            what = "a number of seconds" if number else "a string"
            raise click.UsageError(f"{path}, profile {name!r}: {field} must be {what}.")
    sources = [field for field in ("api_key", "api_key_env", "api_key_command") if field in table]
    if len(sources) > 1:
        raise click.UsageError(f"{path}, profile {name!r}: give only one of {', '.join(sources)}.")
    api_key: str | None = None
    if "api_key" in table:
        _refuse_if_others_can_read(path)
        api_key = table["api_key"]
    elif "api_key_env" in table:
        api_key = os.environ.get(table["api_key_env"]) or None
        if api_key is None:
            raise click.UsageError(
                f"Profile {name!r} reads its key from ${table['api_key_env']}, which is not set."
            )
    elif "api_key_command" in table:
        api_key = _run_key_command(name, table["api_key_command"])
    timeout = table.get("timeout")
    return Profile(
        name=name,
        base_url=table.get("base_url"),
        api_key=api_key,
        app_title=table.get("app_title"),
        http_referer=table.get("http_referer"),
        timeout=float(timeout) if timeout is not None else None,
        redis_url=table.get("redis_url"),
        redis_key=table.get("redis_key"),
    )


def _refuse_if_others_can_read(path: Path) -> None:
    if os.name == "nt":
        return  # no POSIX modes; the user's profile directory is private by default
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise click.UsageError(
            f"{path} holds an api_key but others can read it (mode {mode:04o}). "
            f"Run `chmod 600 {path}`, or use api_key_env / api_key_command instead."
        )


def _run_key_command(name: str, command: str) -> str:
    try:
        done = subprocess.run(
            shlex.split(command),
            capture_output=True,
            text=True,
            timeout=_COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise click.UsageError(f"Profile {name!r}: api_key_command failed: {exc}") from None
    key = done.stdout.strip()
    if done.returncode != 0 or not key:
        # Its output is not shown: it may hold the key.
        raise click.UsageError(
            f"Profile {name!r}: api_key_command exited {done.returncode}"
            + ("" if key else " and printed no key")
            + "."
        )
    return key
