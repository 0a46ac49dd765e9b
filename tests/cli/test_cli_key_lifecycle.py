"""The CLI's spec 1.1 options: ``keys list --include-expired``, ``keys create
--external-user/--external-api-key-env`` and bulk-create's external columns, against the
local server; the external API key never reaches the output."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from modelgates_async.server import LocalServer
from tests.cli.helpers import Invoke, all_keys

EXTERNAL_KEY = "ext-" + "7e57c0de" * 5


def test_help_shows_the_new_options(invoke: Invoke) -> None:
    """`keys list --help` names --include-expired; `keys create --help` the external ones."""
    assert "--include-expired" in invoke("keys", "list", "--help").output
    create_help = invoke("keys", "create", "--help").output
    assert "--external-user" in create_help
    assert "--external-api-key-env" in create_help
    assert "external_api_key" in invoke("keys", "bulk-create", "--help").output


def test_an_unset_external_key_variable_is_a_usage_error(
    invoke: Invoke, modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--external-api-key-env naming an unset variable exits 2 and creates nothing."""
    monkeypatch.delenv("NO_SUCH_EXTERNAL_KEY", raising=False)
    result = invoke(
        "keys",
        "create",
        "t",
        "--external-user",
        "u",
        "--external-api-key-env",
        "NO_SUCH_EXTERNAL_KEY",
    )
    assert result.exit_code == 2
    assert "NO_SUCH_EXTERNAL_KEY" in result.output
    assert all_keys(modelgates_server, include_expired=True) == []


def test_keys_list_shows_expired_keys_only_with_the_flag(
    invoke: Invoke, modelgates_server: LocalServer
) -> None:
    """A key past its expiry is missing from `keys list` and shown by --include-expired
    (with and without --all)."""
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    modelgates_server.clock.set(now)
    soon = (now + timedelta(minutes=5)).isoformat()
    assert invoke("keys", "create", "short-lived", "--expires-at", soon).exit_code == 0
    modelgates_server.clock.advance(timedelta(hours=1))
    assert json.loads(invoke("keys", "list", "--json").output) == []
    for extra in ((), ("--all",)):
        listed = json.loads(invoke("keys", "list", "--include-expired", *extra, "--json").output)
        assert [key["name"] for key in listed] == ["short-lived"]


def test_keys_create_takes_the_external_key_from_the_environment(
    invoke: Invoke, modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keys create --external-user U --external-api-key-env VAR` stores U; the key's value
    appears nowhere in the output."""
    monkeypatch.setenv("TENANT_EXTERNAL_KEY", EXTERNAL_KEY)
    result = invoke(
        "keys",
        "create",
        "partner",
        "--external-user",
        "tenant-3",
        "--external-api-key-env",
        "TENANT_EXTERNAL_KEY",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert EXTERNAL_KEY not in result.output
    assert json.loads(result.output)["data"]["external_user"] == "tenant-3"
    (key,) = all_keys(modelgates_server, include_expired=True)
    assert key.external_user == "tenant-3"


def test_bulk_create_reads_the_external_columns(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """CSV columns external_user and external_api_key are sent; a row whose external key is
    too short is refused without its value in the output."""
    good = tmp_path / "partners.csv"
    good.write_text(
        f"name,external_user,external_api_key\nalpha,tenant-a,{EXTERNAL_KEY}\nbeta,tenant-b,\n"
    )
    result = invoke("keys", "bulk-create", str(good))
    assert result.exit_code == 0, result.output
    assert EXTERNAL_KEY not in result.output
    every_key = all_keys(modelgates_server, include_expired=True)
    users = {key.name: key.external_user for key in every_key}
    assert users == {"alpha": "tenant-a", "beta": "tenant-b"}
    short = "tooshort-" + "q" * 10
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"name": "g", "external_user": "u", "external_api_key": short}))
    result = invoke("keys", "bulk-create", str(bad))
    assert result.exit_code != 0
    assert "external_api_key" in result.output
    assert short not in result.output
    assert len(all_keys(modelgates_server, include_expired=True)) == 2
