"""The `modelgates` command through click's CliRunner, against the local server."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from modelgates_async import KeySpec
from modelgates_async.cli import group
from modelgates_async.server import LocalServer
from tests.cli.helpers import WRONG_KEY, Invoke, all_keys, fetch, make_keys

cli = group()


def test_create_prints_the_record_and_the_secret_once(
    invoke: Invoke, modelgates_server: LocalServer
) -> None:
    """`keys create` shows the new key and its secret, exactly once, and exits 0."""
    result = invoke(
        "keys", "create", "Tenant 1", "--limit", "10", "--limit-reset", "monthly", "--byok"
    )
    assert result.exit_code == 0, result.output
    [key] = all_keys(modelgates_server)
    assert (key.name, key.limit, key.limit_reset, key.include_byok_in_limit) == (
        "Tenant 1",
        10.0,
        "monthly",
        True,
    )
    secret_lines = [line for line in result.output.splitlines() if line.startswith("sk-mg-v1-")]
    assert len(secret_lines) == 1
    assert "shown only this once" in result.output


def test_create_json_carries_key_and_record(invoke: Invoke) -> None:
    """`keys create --json` prints {"key", "data"} for programs."""
    result = invoke("keys", "create", "j", "--expires-at", "2031-01-01", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["key"].startswith("sk-mg-v1-")
    assert data["data"]["name"] == "j"
    assert data["data"]["expires_at"].startswith("2031-01-01T00:00:00")


def test_create_secret_file_keeps_the_secret_off_the_terminal(
    invoke: Invoke, tmp_path: Path
) -> None:
    """--secret-file writes the secret to a new 0600 file and nowhere else."""
    target = tmp_path / "secret.jsonl"
    result = invoke("keys", "create", "filed", "--secret-file", str(target))
    assert result.exit_code == 0, result.output
    saved = json.loads(target.read_text())
    assert saved["key"].startswith("sk-mg-v1-")
    assert saved["key"] not in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_list_shows_a_table_and_json(invoke: Invoke, modelgates_server: LocalServer) -> None:
    """`keys list` shows enabled keys as a table; --include-disabled and --json work."""
    first, second = make_keys(modelgates_server, KeySpec("one"), KeySpec("two"))
    invoke("keys", "disable", second.data.hash)
    table = invoke("keys", "list")
    assert table.exit_code == 0
    assert first.data.hash in table.output
    assert second.data.hash not in table.output
    listed = json.loads(invoke("keys", "list", "--include-disabled", "--json").output)
    assert {key["name"] for key in listed} == {"one", "two"}


def test_list_all_follows_every_page(invoke: Invoke, modelgates_server: LocalServer) -> None:
    """`keys list --all` returns keys beyond the first page of 100."""
    make_keys(modelgates_server, *(KeySpec(f"k{i}") for i in range(105)))
    assert len(json.loads(invoke("keys", "list", "--json").output)) == 100
    assert len(json.loads(invoke("keys", "list", "--all", "--json").output)) == 105


def test_get_update_enable_disable(invoke: Invoke, modelgates_server: LocalServer) -> None:
    """get shows a key; update changes only what is passed; --limit none clears the limit."""
    [key] = make_keys(modelgates_server, KeySpec("k", limit=5, limit_reset="daily"))
    shown = invoke("keys", "get", key.data.hash)
    assert shown.exit_code == 0
    assert key.data.hash in shown.output
    updated = json.loads(
        invoke("keys", "update", key.data.hash, "--limit", "none", "--name", "n", "--json").output
    )
    assert (updated["name"], updated["limit"], updated["limit_reset"]) == ("n", None, "daily")
    invoke("keys", "update", key.data.hash, "--limit-reset", "none", "--no-byok")
    assert fetch(modelgates_server, key.data.hash).limit_reset is None
    assert invoke("keys", "disable", key.data.hash).exit_code == 0
    assert fetch(modelgates_server, key.data.hash).disabled
    assert invoke("keys", "enable", key.data.hash).exit_code == 0
    assert not fetch(modelgates_server, key.data.hash).disabled


def test_update_workspace_moves_the_key(invoke: Invoke, modelgates_server: LocalServer) -> None:
    """`keys update HASH --workspace ID` moves the key: it is listed in that workspace only."""
    other = "3f1c5a0e-7b2d-4c8e-9a61-0d2e4b6f8a10"
    [key] = make_keys(modelgates_server, KeySpec("mover"))
    moved = invoke("keys", "update", key.data.hash, "--workspace", other, "--json")
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.output)["workspace_id"] == other
    assert fetch(modelgates_server, key.data.hash).workspace_id == other
    assert all_keys(modelgates_server) == []  # gone from the default workspace
    listed = invoke("keys", "list", "--workspace", other, "--json")
    assert [k["hash"] for k in json.loads(listed.output)] == [key.data.hash]


def test_delete_needs_yes_without_a_terminal(
    invoke: Invoke, modelgates_server: LocalServer
) -> None:
    """`keys delete` without --yes and without a terminal refuses (2); with --yes it deletes."""
    [key] = make_keys(modelgates_server, KeySpec("doomed"))
    refused = invoke("keys", "delete", key.data.hash)
    assert refused.exit_code == 2
    assert "--yes" in refused.output
    assert len(all_keys(modelgates_server)) == 1
    done = invoke("keys", "delete", key.data.hash, "--yes")
    assert done.exit_code == 0
    assert all_keys(modelgates_server) == []


def test_current_shows_the_management_key(invoke: Invoke) -> None:
    """`keys current --json` shows the record of the key in use."""
    result = invoke("keys", "current", "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["is_management_key"] is True


def test_rotate_prints_the_new_secret_and_disables_the_old_key(
    invoke: Invoke, modelgates_server: LocalServer
) -> None:
    """`keys rotate` creates a same-settings key, shows its secret, disables the old one."""
    [old] = make_keys(modelgates_server, KeySpec("t", limit=7, limit_reset="weekly"))
    result = invoke("keys", "rotate", old.data.hash, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["key"].startswith("sk-mg-v1-")
    assert (data["data"]["name"], data["data"]["limit"]) == ("t", 7.0)
    assert fetch(modelgates_server, old.data.hash).disabled


def test_rotate_that_cannot_retire_still_hands_over_the_secret(
    invoke: Invoke,
    modelgates_server: LocalServer,
    tmp_path: Path,
    modelgates_no_backoff: list[float],
) -> None:
    """If disabling the old key fails, the new secret is still saved and the exit status is 1."""
    [old] = make_keys(modelgates_server, KeySpec("t"))
    modelgates_server.inject_fault(f"/keys/{old.data.hash}", method="PATCH", status=500, times=3)
    target = tmp_path / "new.jsonl"
    result = invoke("keys", "rotate", old.data.hash, "--secret-file", str(target))
    assert result.exit_code == 1
    assert json.loads(target.read_text())["key"].startswith("sk-mg-v1-")
    assert "still works" in result.output
    assert not fetch(modelgates_server, old.data.hash).disabled
    assert len(modelgates_no_backoff) == 2  # the PATCH was tried three times


def test_unknown_hash_is_an_api_error_with_advice(invoke: Invoke) -> None:
    """A 404 exits 1 and says how to find the right hash."""
    result = invoke("keys", "get", "f" * 64)
    assert result.exit_code == 1
    assert "keys list --all --include-disabled" in result.output


def test_a_refused_api_key_is_never_echoed(invoke: Invoke) -> None:
    """A wrong --api-key exits 1 with advice, and the key appears nowhere in the output."""
    result = invoke("--api-key", WRONG_KEY, "keys", "list")
    assert result.exit_code == 1
    assert "--api-key" in result.output
    assert WRONG_KEY not in result.output


def test_api_key_option_on_the_command_overrides_the_environment(invoke: Invoke) -> None:
    """--api-key after the command wins over MODELGATES_API_KEY."""
    result = invoke("keys", "list", "--api-key", WRONG_KEY)
    assert result.exit_code == 1


def test_missing_api_key_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """No --api-key and no MODELGATES_API_KEY: exit 2, saying where a key comes from."""
    monkeypatch.delenv("MODELGATES_API_KEY", raising=False)
    result = CliRunner().invoke(cli, ["keys", "list"])
    assert result.exit_code == 2
    assert "MODELGATES_API_KEY" in result.output


def test_unreachable_server_says_what_to_check(modelgates_no_backoff: list[float]) -> None:
    """A connection failure exits 1 and points at --base-url and `modelgates serve`."""
    result = CliRunner().invoke(
        cli,
        ["keys", "list", "--api-key", WRONG_KEY, "--base-url", "http://127.0.0.1:9/api/v1"],
    )
    assert result.exit_code == 1
    assert "modelgates serve" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "create", "x", "--limit", "lots"),
        ("keys", "create", "x", "--limit-reset", "yearly"),
        ("keys", "create", "x", "--expires-at", "soon"),
        ("keys", "create", "   "),
        ("keys", "update", "abc"),
        ("keys", "get", "../etc"),
        ("keys", "nope"),
    ],
)
def test_bad_arguments_are_usage_errors(invoke: Invoke, args: tuple[str, ...]) -> None:
    """Bad or missing arguments exit 2 before anything is sent."""
    assert invoke(*args).exit_code == 2


def test_bulk_create_writes_secrets_to_a_private_file(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """bulk-create makes one key per CSV row and writes the secrets to a 0600 file only."""
    source = tmp_path / "tenants.csv"
    source.write_text(
        "name,limit,limit_reset,include_byok_in_limit,expires_at\n"
        "alpha,10,monthly,true,2031-01-01\n"
        "beta,none,,,\n"
        "gamma,5,weekly,no,\n"
    )
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 0, result.output
    secrets_file = tmp_path / "tenants.secrets.jsonl"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    saved = [json.loads(line) for line in secrets_file.read_text().splitlines()]
    assert sorted(entry["name"] for entry in saved) == ["alpha", "beta", "gamma"]
    for entry in saved:
        assert entry["key"] not in result.output
    keys = {key.name: key for key in all_keys(modelgates_server)}
    assert keys["alpha"].include_byok_in_limit
    assert keys["alpha"].limit == 10.0
    assert keys["beta"].limit is None
    assert keys["gamma"].limit_reset == "weekly"


def test_bulk_create_lists_bad_lines_and_creates_nothing(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """Lines that break create()'s rules are all listed by line; exit 2, nothing created."""
    source = tmp_path / "t.csv"
    source.write_text("name,limit,limit_reset\nok,1,\nbad,abc,\n,5,\nworse,1,yearly\nfine,,\n")
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 2
    for line in ("line 3: limit 'abc'", "line 4: the name is empty", "line 5: limit_reset"):
        assert line in result.output
    assert all_keys(modelgates_server) == []
    assert not (tmp_path / "t.secrets.jsonl").exists()


def test_bulk_create_reports_lines_the_server_refuses(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A line the server refuses fails alone with its line number; the others are made (1)."""
    source = tmp_path / "t.csv"
    source.write_text("name\nonly\n")
    modelgates_server.inject_fault("/keys", method="POST", status=400, times=1)
    result = invoke("keys", "bulk-create", str(source), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["created"], data["failed"]) == (0, 1)
    assert data["errors"][0]["line"] == 2
    assert json.loads(result.stderr)["error"]["kind"] == "api"
    assert all_keys(modelgates_server) == []
    assert not (tmp_path / "t.secrets.jsonl").exists()


def test_bulk_create_jsonl_with_429s_creates_each_line_once(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """JSONL lines are created once each even when the server answers 429 on some."""
    source = tmp_path / "t.jsonl"
    source.write_text("".join(json.dumps({"name": f"j{i}", "limit": i}) + "\n" for i in range(12)))
    modelgates_server.inject_fault(
        "/keys", method="POST", status=429, headers={"Retry-After": "0"}, times=5
    )
    result = invoke("keys", "bulk-create", str(source), "--concurrency", "4")
    assert result.exit_code == 0, result.output
    names = sorted(key.name for key in all_keys(modelgates_server))
    assert names == sorted(f"j{i}" for i in range(12))


def test_bulk_create_never_overwrites_a_secrets_file(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """An existing --out file is refused (exit 2) before any key is created."""
    source = tmp_path / "t.csv"
    source.write_text("name\na\n")
    out = tmp_path / "old-secrets.jsonl"
    out.write_text("precious\n")
    result = invoke("keys", "bulk-create", str(source), "--out", str(out))
    assert result.exit_code == 2
    assert out.read_text() == "precious\n"
    assert all_keys(modelgates_server) == []


def test_bulk_create_show_secrets_prints_them_when_asked(invoke: Invoke, tmp_path: Path) -> None:
    """--show-secrets puts the secrets on the terminal as well as in the file."""
    source = tmp_path / "t.csv"
    source.write_text("name\na\n")
    result = invoke("keys", "bulk-create", str(source), "--show-secrets")
    saved = json.loads((tmp_path / "t.secrets.jsonl").read_text())
    assert saved["key"] in result.output


@pytest.mark.parametrize(
    ("name", "content"),
    [("t.txt", "name\na\n"), ("t.csv", "nom\na\n"), ("t.csv", "name,limt\na,1\n")],
)
def test_bulk_create_refuses_unusable_files(
    invoke: Invoke, tmp_path: Path, name: str, content: str
) -> None:
    """An unknown format or a header with unknown columns is a usage error."""
    source = tmp_path / name
    source.write_text(content)
    assert invoke("keys", "bulk-create", str(source)).exit_code == 2


def test_demo_runs_on_a_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """`modelgates demo` with no account provisions, rotates and disables, and exits 0."""
    monkeypatch.delenv("MODELGATES_API_KEY", raising=False)
    monkeypatch.delenv("MODELGATES_BASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    for text in ("create_many", "over_limit", "rotate", "disable_over_limit", "Done"):
        assert text in result.output
    assert "sk-mg-v1-" in result.output  # labels, masked
    assert not any(
        len(word) > 40 and word.startswith("sk-mg-v1-") for word in result.output.split()
    )


def test_demo_refuses_a_real_account_without_live(monkeypatch: pytest.MonkeyPatch) -> None:
    """With MODELGATES_API_KEY set, the demo refuses (2) unless --live is given."""
    monkeypatch.setenv("MODELGATES_API_KEY", WRONG_KEY)
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 2
    assert "--live" in result.output
    assert WRONG_KEY not in result.output


def test_demo_live_touches_only_its_own_keys(
    modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`demo --live` leaves the account's keys alone (even over-limit or demo-named ones)
    and deletes only the keys it made."""
    overspent, lookalike = make_keys(
        modelgates_server, KeySpec("real-customer", limit=1), KeySpec("demo-tenant-acme")
    )
    modelgates_server.record_usage(overspent.data.hash, 5.0)
    monkeypatch.setenv("MODELGATES_API_KEY", modelgates_server.management_key)
    monkeypatch.setenv("MODELGATES_BASE_URL", modelgates_server.base_url)
    result = CliRunner().invoke(cli, ["demo", "--live"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Skipped on a live account" in result.output
    remaining = {key.hash: key for key in all_keys(modelgates_server)}
    assert set(remaining) == {overspent.data.hash, lookalike.data.hash}
    assert not remaining[overspent.data.hash].disabled


def test_serve_on_a_taken_port_says_what_to_do() -> None:
    """A port already in use gives a usage error (exit 2) naming --port, not a traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"Cannot listen on 127.0.0.1:{port}" in result.output
    assert "--port" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--port", "99999"], "99999 is not in the range"),
        (["--port", "-1"], "-1 is not in the range"),
        (["--port", "0", "--db", "{tmp}/missing/keys.db"], "does not exist"),
        (["--port", "0", "--db", "{tmp}/not-sqlite.db"], "is not an SQLite database"),
    ],
)
def test_serve_with_bad_options_is_a_usage_error(
    tmp_path: Path, arguments: list[str], expected: str
) -> None:
    """A bad --port or --db is a one-line usage error (exit 2), never a traceback."""
    (tmp_path / "not-sqlite.db").write_text("plain text, not a database\n")
    argv = ["serve", *(a.replace("{tmp}", str(tmp_path)) for a in arguments)]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_without_the_cli_extra_main_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without click/rich, `modelgates` prints the pip command and exits 2."""
    from modelgates_async import cli as entry

    monkeypatch.setitem(sys.modules, "click", None)
    with pytest.raises(SystemExit) as info:
        entry.main(["keys", "list"])
    assert info.value.code == 2
    assert "pip install 'modelgates-async[cli]'" in capsys.readouterr().err


def test_keys_group_holds_every_keys_command() -> None:
    """`modelgates keys` offers exactly its ten commands, bulk-create among them."""
    keys = cli.commands["keys"]
    assert isinstance(keys, click.Group)
    assert sorted(keys.commands) == [
        "bulk-create",
        "create",
        "current",
        "delete",
        "disable",
        "enable",
        "get",
        "list",
        "rotate",
        "update",
    ]
    assert sorted(cli.commands) == ["apply", "demo", "keys", "plan", "serve"]


def test_demo_runs_on_a_loopback_server_without_live(
    modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exports of `modelgates serve` pasted (a loopback URL): the demo runs there, no --live
    needed, and deletes its own keys afterwards."""
    [mine] = make_keys(modelgates_server, KeySpec("already-here"))
    monkeypatch.setenv("MODELGATES_API_KEY", modelgates_server.management_key)
    monkeypatch.setenv("MODELGATES_BASE_URL", modelgates_server.base_url)
    result = CliRunner().invoke(cli, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "not a real account" in result.output
    assert [key.hash for key in all_keys(modelgates_server)] == [mine.data.hash]


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/api/v1", True),
        ("http://127.8.9.1/api/v1", True),
        ("http://[::1]:8080/api/v1", True),
        ("http://localhost:8080/api/v1", True),
        ("https://modelgates.ai/api/v1", False),
        ("http://10.0.0.5/api/v1", False),
        ("http://127.0.0.1.evil.example/api/v1", False),
        (None, False),
    ],
)
def test_loopback_urls_are_recognised(url: str | None, local: bool) -> None:
    """Only this machine's addresses count as a local server."""
    from modelgates_async.cli.demo import is_loopback

    assert is_loopback(url) is local


def test_demo_refuses_a_real_base_url_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key with a non-loopback base URL still needs --live (exit 2)."""
    monkeypatch.setenv("MODELGATES_API_KEY", WRONG_KEY)
    monkeypatch.setenv("MODELGATES_BASE_URL", "https://modelgates.ai/api/v1")
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 2
    assert "--live" in result.output


def test_shell_completion_completes_commands() -> None:
    """click's completion protocol answers for `modelgates ke<TAB>` with `keys`."""
    result = CliRunner().invoke(
        cli,
        [],
        env={
            "_MODELGATES_COMPLETE": "bash_complete",
            "COMP_WORDS": "modelgates ke",
            "COMP_CWORD": "1",
        },
        prog_name="modelgates",
    )
    assert result.exit_code == 0
    assert "plain,keys" in result.output
