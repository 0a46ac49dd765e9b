"""`modelgates` as a real process: the installed script, exit statuses, stdout/stderr."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelgates_async import ModelGates, RateLimitError, RetryConfig
from modelgates_async.server import LocalServer
from tests.cli.helpers import command

WRONG_KEY = "sk-mg-v1-" + "feedface" * 8


def modelgates(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MODELGATES_") or k == "MODELGATES_CONFIG"
    }
    return subprocess.run(
        [*command(), *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def server_env(modelgates_server: LocalServer) -> dict[str, str]:
    return {
        "MODELGATES_API_KEY": modelgates_server.management_key,
        "MODELGATES_BASE_URL": modelgates_server.base_url,
    }


def test_create_then_list_as_a_process(server_env: dict[str, str]) -> None:
    """The script creates a key and lists it as JSON, exiting 0."""
    created = modelgates("keys", "create", "proc", "--limit", "3", "--json", env=server_env)
    assert created.returncode == 0, created.stderr
    key_hash = json.loads(created.stdout)["data"]["hash"]
    listed = modelgates("keys", "list", "--json", env=server_env)
    assert listed.returncode == 0, listed.stderr
    assert [key["hash"] for key in json.loads(listed.stdout)] == [key_hash]


def test_api_error_exits_1_on_stderr_without_the_key(server_env: dict[str, str]) -> None:
    """A refused key exits 1, explains on stderr, and never prints the key."""
    result = modelgates("keys", "list", "--api-key", WRONG_KEY, env=server_env)
    assert result.returncode == 1
    assert "refused" in result.stderr
    assert WRONG_KEY not in result.stdout + result.stderr


def test_usage_error_exits_2(server_env: dict[str, str]) -> None:
    """A bad option value exits 2 with click's usage message."""
    result = modelgates("keys", "create", "x", "--limit", "lots", env=server_env)
    assert result.returncode == 2
    assert "lots" in result.stderr


def test_bulk_create_as_a_process(server_env: dict[str, str], tmp_path: Path) -> None:
    """bulk-create from a file writes the secrets file and keeps stdout free of secrets."""
    (tmp_path / "t.csv").write_text("name,limit\na,1\nb,2\n")
    result = modelgates("keys", "bulk-create", "t.csv", env=server_env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    saved = [json.loads(line) for line in (tmp_path / "t.secrets.jsonl").read_text().splitlines()]
    assert len(saved) == 2
    assert all(entry["key"] not in result.stdout + result.stderr for entry in saved)


def test_demo_as_a_process_exits_0() -> None:
    """`modelgates demo` on a fresh machine (no MODELGATES_* set) runs and exits 0."""
    result = modelgates("demo")
    assert result.returncode == 0, result.stderr
    assert "disable_over_limit" in result.stdout
    assert "Done" in result.stdout


def test_help_lists_the_commands() -> None:
    """`modelgates --help` names keys, serve and demo."""
    result = modelgates("--help")
    assert result.returncode == 0
    for name in ("keys", "serve", "demo"):
        assert name in result.stdout


def test_python_dash_m_runs_the_same_command() -> None:
    """`python -m modelgates_async.cli` is `modelgates`: same program name, commands, exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", "modelgates_async.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: modelgates [OPTIONS] COMMAND")
    for name in ("demo", "keys", "serve"):
        assert f"\n  {name} " in result.stdout


@pytest.fixture
def silent_server() -> Iterator[tuple[str, socket.socket]]:
    """A listening socket that accepts connections and never answers: a stuck API."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(60)
        port = listener.getsockname()[1]
        yield f"http://127.0.0.1:{port}/api/v1", listener


def interrupt_once_connected(
    listener: socket.socket, args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `modelgates ARGS`, wait until it has connected, send SIGINT, and collect it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MODELGATES_")}
    with subprocess.Popen(
        [*command(), *args],
        env={**base, "MODELGATES_CONFIG": os.environ["MODELGATES_CONFIG"], **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        connection, _ = listener.accept()  # the request is in flight now
        with connection:
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
def test_ctrl_c_during_a_call_exits_130_with_a_summary(
    silent_server: tuple[str, socket.socket],
) -> None:
    """SIGINT while `keys list --all` waits on the API: exit 130, a summary, no "Aborted!"."""
    url, listener = silent_server
    env = {"MODELGATES_API_KEY": WRONG_KEY, "MODELGATES_BASE_URL": url}
    result = interrupt_once_connected(listener, ["keys", "list", "--all"], env)
    assert result.returncode == 130, result.stderr
    assert "Interrupted. Nothing was changed." in result.stderr
    assert "Aborted" not in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery is POSIX")
def test_ctrl_c_during_bulk_create_summarises_and_leaves_no_empty_file(
    silent_server: tuple[str, socket.socket], tmp_path: Path
) -> None:
    """SIGINT during bulk-create: exit 130, counts of created / failed / not done, and the
    secrets file of a run that created nothing is gone; --json makes it a JSON error."""
    url, listener = silent_server
    (tmp_path / "t.csv").write_text("name\na\nb\nc\n")
    # The call in flight is given its timeout to finish after Ctrl-C: a profile makes it 1 s.
    config = tmp_path / "config.toml"
    config.write_text("[profiles.short]\ntimeout = 1\n")
    env = {
        "MODELGATES_API_KEY": WRONG_KEY,
        "MODELGATES_BASE_URL": url,
        "MODELGATES_CONFIG": str(config),
        "MODELGATES_PROFILE": "short",
    }
    args = ["keys", "bulk-create", "t.csv", "--concurrency", "1", "--json"]
    result = interrupt_once_connected(listener, args, env, cwd=tmp_path)
    assert result.returncode == 130, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["kind"] == "interrupted"
    assert error["exit_code"] == 130
    assert "0 of 3 key(s) created, 0 failed, 3 not started" in error["message"]
    assert not (tmp_path / "t.secrets.jsonl").exists()


def test_shell_completion_script_is_produced() -> None:
    """`_MODELGATES_COMPLETE=bash_source modelgates` prints the bash completion script."""
    result = modelgates(env={"_MODELGATES_COMPLETE": "bash_source"})
    assert result.returncode == 0, result.stderr
    assert "_modelgates_completion()" in result.stdout
    assert "complete -o nosort -F _modelgates_completion modelgates" in result.stdout


def test_serve_runs_a_server_with_the_given_options(tmp_path: Path) -> None:
    """`modelgates serve` with --management-key, --rate-limit and --db serves with them."""
    given = "sk-mg-v1-" + "5e" * 32
    db = tmp_path / "keys.db"
    base = {k: v for k, v in os.environ.items() if not k.startswith("MODELGATES_")}
    child = subprocess.Popen(
        [
            *command(),
            "serve",
            "--port",
            "0",
            "--management-key",
            given,
            "--rate-limit",
            "2",
            f"--db={db}",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**base, "MODELGATES_CONFIG": os.environ["MODELGATES_CONFIG"], "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    with child.stdout:
        try:
            url = None
            for line in child.stdout:
                found = re.search(r"MODELGATES_BASE_URL=(http://127\.0\.0\.1:\d+/api/v1)", line)
                if found:
                    url = found.group(1)
                    break
            assert url is not None, "serve printed no base URL"
            with ModelGates(api_key=given, base_url=url, retries=RetryConfig.disabled()) as mg:
                me = mg.api_keys.get_current_key_metadata()
                assert me.is_management_key  # the given key is the management key
                assert me.rate_limit is not None
                assert me.rate_limit.requests == 2
                refused = False
                for _ in range(10):  # far quicker than the 2 a second allowed
                    try:
                        mg.api_keys.list()
                    except RateLimitError:
                        refused = True
                        break  # later calls would wait out the client's pause for real
                assert refused
        finally:
            child.send_signal(signal.SIGINT)
            assert child.wait(timeout=10) == 0
        rest = child.stdout.read()
    assert "stopped" in rest
    assert given not in rest
    assert db.exists()  # --db kept the keys in that file
