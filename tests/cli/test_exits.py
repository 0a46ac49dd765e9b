"""Exit codes (0 ok or declined, 1 API error, 2 usage, 130 interrupted), errors as JSON with
--json, and what the commands say when there is little to say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelgates_async import KeySpec
from modelgates_async.cli import group, keys, progress
from modelgates_async.server import LocalServer
from tests.cli.helpers import WRONG_KEY, Invoke, all_keys, fetch, make_keys


def error_of(stderr: str) -> dict[str, object]:
    """The JSON error object a --json run wrote on stderr (the whole of stderr)."""
    document = json.loads(stderr)
    assert set(document) == {"error"}
    error: dict[str, object] = document["error"]
    return error


def test_json_usage_error_is_a_json_object_on_stderr(invoke: Invoke) -> None:
    """A bad option value with --json: exit 2, stdout empty, {"error": {...}} on stderr."""
    result = invoke("keys", "create", "x", "--limit", "lots", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    error = error_of(result.stderr)
    assert error["kind"] == "usage"
    assert error["exit_code"] == 2
    assert "lots" in str(error["message"])


def test_json_before_the_command_counts_too(invoke: Invoke) -> None:
    """`modelgates --json keys get HASH` reports a 404 as JSON with its type and status."""
    result = invoke("--json", "keys", "get", "f" * 64)
    assert result.exit_code == 1
    error = error_of(result.stderr)
    assert (error["kind"], error["type"], error["status"]) == ("api", "NotFoundError", 404)


def test_json_missing_api_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key anywhere, with --json: a JSON usage error (2) naming MODELGATES_API_KEY."""
    result = CliRunner().invoke(group(), ["keys", "list", "--json"])
    assert result.exit_code == 2
    assert "MODELGATES_API_KEY" in str(error_of(result.stderr)["message"])


def test_json_api_error_never_holds_the_key(invoke: Invoke) -> None:
    """A refused key with --json: exit 1, a JSON error, and the key appears nowhere."""
    result = invoke("keys", "list", "--json", "--api-key", WRONG_KEY)
    assert result.exit_code == 1
    assert error_of(result.stderr)["type"] == "AuthenticationError"
    assert WRONG_KEY not in result.output


def test_a_plain_error_says_error_on_stderr(invoke: Invoke) -> None:
    """Without --json an API error is one "Error: …" message on stderr, nothing on stdout."""
    result = invoke("keys", "get", "f" * 64)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")


def test_answering_no_to_delete_exits_0_and_keeps_the_key(
    invoke: Invoke, modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The delete prompt names the key; "n" deletes nothing and exits 0 (not an error)."""
    [key] = make_keys(modelgates_server, KeySpec("Tenant Seven"))
    monkeypatch.setattr(keys, "stdin_is_terminal", lambda: True)
    result = invoke("keys", "delete", key.data.hash[:10], input="n\n")
    assert result.exit_code == 0
    assert "Delete key 'Tenant Seven'" in result.output
    assert "Not deleted." in result.output
    assert len(all_keys(modelgates_server)) == 1
    yes = invoke("keys", "delete", key.data.hash[:10], input="y\n")
    assert yes.exit_code == 0
    assert all_keys(modelgates_server) == []


def test_end_of_input_at_a_prompt_is_an_interruption(
    invoke: Invoke, modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-D (or Ctrl-C) at the prompt: exit 130 with a summary, never "Aborted!"."""
    [key] = make_keys(modelgates_server, KeySpec("t"))
    monkeypatch.setattr(keys, "stdin_is_terminal", lambda: True)
    result = invoke("keys", "delete", key.data.hash, input="")
    assert result.exit_code == 130
    assert "Interrupted. Nothing was changed." in result.stderr
    assert "Aborted" not in result.output
    assert len(all_keys(modelgates_server)) == 1


def test_rotate_says_what_happened_to_the_old_key(
    invoke: Invoke, modelgates_server: LocalServer
) -> None:
    """rotate reports the old key disabled (and how to undo), or deleted."""
    [old] = make_keys(modelgates_server, KeySpec("t"))
    result = invoke("keys", "rotate", old.data.hash)
    assert result.exit_code == 0, result.output
    assert f"The old key {old.data.hash} was disabled: it no longer works." in result.stdout
    assert f"modelgates keys enable {old.data.hash}" in result.stdout
    [new] = [key for key in all_keys(modelgates_server) if not key.disabled]
    again = invoke("keys", "rotate", new.hash, "--retire", "delete", "--json")
    data = json.loads(again.stdout)
    assert (data["old_hash"], data["old_key"], data["retired"]) == (new.hash, "deleted", True)


def test_rotate_json_says_the_old_key_still_works_when_retiring_failed(
    invoke: Invoke, modelgates_server: LocalServer, modelgates_no_backoff: list[float]
) -> None:
    """If the old key cannot be disabled, --json says "still enabled" and exits 1."""
    [old] = make_keys(modelgates_server, KeySpec("t"))
    modelgates_server.inject_fault(f"/keys/{old.data.hash}", method="PATCH", status=500, times=3)
    result = invoke("keys", "rotate", old.data.hash, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["old_key"] == "still enabled"
    assert error_of(result.stderr)["kind"] == "api"
    assert not fetch(modelgates_server, old.data.hash).disabled
    assert len(modelgates_no_backoff) == 2  # the PATCH was tried three times


def test_an_empty_list_says_why(invoke: Invoke, modelgates_server: LocalServer) -> None:
    """No keys: how to make one; only disabled keys: --include-disabled; past the end: offset."""
    assert "No keys yet" in invoke("keys", "list").stdout
    [key] = make_keys(modelgates_server, KeySpec("t"))
    assert "No keys past offset 5" in invoke("keys", "list", "--offset", "5").stdout
    invoke("keys", "disable", key.data.hash)
    hidden = invoke("keys", "list")
    assert hidden.exit_code == 0
    assert "1 disabled key(s) are hidden" in hidden.stdout
    assert "--include-disabled" in hidden.stdout
    assert json.loads(invoke("keys", "list", "--json").stdout) == []


def test_progress_is_drawn_on_a_terminal_with_rate(
    invoke: Invoke, modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`list --all` on a terminal draws progress (count and rate) on stderr, not stdout."""
    make_keys(modelgates_server, *(KeySpec(f"k{i}") for i in range(120)))
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    result = invoke("keys", "list", "--all", "--json")
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 120
    assert "listing keys" in result.stderr
    assert "keys/s" in result.stderr


def test_bulk_progress_shows_rate_and_time_left_on_a_terminal(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bulk-create on a terminal draws a bar with count, rate and time left on stderr."""
    source = tmp_path / "t.csv"
    source.write_text("name\n" + "".join(f"k{i}\n" for i in range(5)))
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 0, result.output
    assert "creating keys" in result.stderr
    assert "5/5" in result.stderr
    assert "keys/s" in result.stderr


def test_nothing_is_drawn_on_a_pipe(invoke: Invoke, modelgates_server: LocalServer) -> None:
    """Off a terminal, long commands print no progress at all."""
    make_keys(modelgates_server, KeySpec("a"))
    result = invoke("keys", "list", "--all")
    assert result.exit_code == 0
    assert result.stderr == ""
