"""The server as a process: several on one database, its management key, usage errors."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from modelgates_async.server import ServerConfigError, ServerState, serve
from modelgates_async.server.__main__ import main as server_main
from tests.server.helpers import call

KEY = "sk-mg-v1-" + "5a" * 32
OTHER_KEY = "sk-mg-v1-" + "a5" * 32


class ServerProcess:
    """``python -m modelgates_async.server`` in a child process, stopped with SIGINT."""

    def __init__(self, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "MODELGATES_MANAGEMENT_KEY"}
        self.child = subprocess.Popen(
            [sys.executable, "-m", "modelgates_async.server", "--port", "0", *args],
            stdout=subprocess.PIPE,
            text=True,
            env={**env, "PYTHONUNBUFFERED": "1"},
        )
        assert self.child.stdout is not None
        self.lines: list[str] = []
        for line in self.child.stdout:
            self.lines.append(line)
            if "MODELGATES_API_KEY" in line:
                break
        found = re.search(r"MODELGATES_BASE_URL=(\S+)", "".join(self.lines))
        assert found is not None, self.lines
        self.base_url = found.group(1)

    def stop(self) -> None:
        """Ctrl-C, and wait for the exit."""
        if self.child.poll() is None:
            self.child.send_signal(signal.SIGINT)
        self.child.wait(timeout=20)
        assert self.child.stdout is not None
        self.child.stdout.close()


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess, Path]]:
    """Two server processes on one SQLite file."""
    db = tmp_path / "shared.db"
    first = ServerProcess("--db", str(db), "--management-key", KEY)
    try:
        second = ServerProcess("--db", str(db), "--management-key", KEY)
        try:
            yield first, second, db
        finally:
            second.stop()
    finally:
        first.stop()


def test_a_key_use_in_one_process_keeps_a_disable_made_meanwhile(
    two_servers: tuple[ServerProcess, ServerProcess, Path],
) -> None:
    """GET /key on process B records last_used_at without undoing a disable committed while
    B was answering (B used to rewrite the whole row it had read)."""
    first, second, db = two_servers
    status, created = call(first.base_url, "POST", "/keys", KEY, {"name": "shared"})
    assert status == 201
    key_hash = created["data"]["hash"]
    writer = sqlite3.connect(db, isolation_level=None)
    try:
        # Take the write lock with the disable pending: B authenticates from the committed
        # row (enabled), then waits for the lock to record last_used_at.
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE keys SET disabled = 1 WHERE hash = ?", (key_hash,))
        answers: list[tuple[int, Any]] = []
        use = threading.Thread(
            target=lambda: answers.append(call(second.base_url, "GET", "/key", created["key"]))
        )
        use.start()
        time.sleep(0.5)  # let B read the row and reach its write; no event crosses processes
        writer.execute("COMMIT")
        use.join(timeout=20)
    finally:
        writer.close()
    assert [status for status, _ in answers] == [200]
    status, after = call(first.base_url, "GET", f"/keys/{key_hash}", KEY)
    assert after["data"]["disabled"] is True
    assert after["data"]["last_used_at"] is not None


def test_two_processes_see_each_others_changes(
    two_servers: tuple[ServerProcess, ServerProcess, Path],
) -> None:
    """A key created on A is patched on B, used on A and listed on both, fields intact."""
    first, second, _ = two_servers
    _, created = call(first.base_url, "POST", "/keys", KEY, {"name": "k", "limit": 3})
    key_hash = created["data"]["hash"]
    assert call(second.base_url, "PATCH", f"/keys/{key_hash}", KEY, {"name": "n"})[0] == 200
    assert call(first.base_url, "GET", "/key", created["key"])[0] == 200
    assert call(second.base_url, "PATCH", f"/keys/{key_hash}", KEY, {"disabled": True})[0] == 200
    for server in (first, second):
        _, listed = call(server.base_url, "GET", "/keys?include_disabled=true", KEY)
        [record] = listed["data"]
        assert (record["name"], record["limit"], record["disabled"]) == ("n", 3, True)


def test_a_database_keeps_its_generated_management_key(tmp_path: Path) -> None:
    """Started again without --management-key, a server on the same file accepts the key it
    printed the first time, and prints no new one."""
    db = tmp_path / "keys.db"
    first = ServerProcess("--db", str(db))
    try:
        found = re.search(r"export MODELGATES_API_KEY=(sk-mg-v1-[0-9a-f]{64})", first.lines[-1])
        assert found is not None
        key = found.group(1)
        call(first.base_url, "POST", "/keys", key, {"name": "kept"})
    finally:
        first.stop()
    again = ServerProcess("--db", str(db))
    try:
        assert "export MODELGATES_API_KEY" not in "".join(again.lines)
        assert "kept in" in again.lines[-1]
        status, listed = call(again.base_url, "GET", "/keys", key)
        assert status == 200
        assert [k["name"] for k in listed["data"]] == ["kept"]
    finally:
        again.stop()
    row = sqlite3.connect(db).execute("SELECT value FROM settings").fetchone()
    assert key not in row[0]


def test_a_database_accepts_its_own_key_and_refuses_another(tmp_path: Path) -> None:
    """The key given the first time is kept (as a hash); giving it again works; another
    key is refused with a clear error that does not show it."""
    db = tmp_path / "keys.db"
    ServerState(management_key=KEY, db=db).close()
    again = ServerState(management_key=KEY, db=db)
    assert again.management_key == KEY
    assert not again.generated_management_key
    again.close()
    kept = ServerState(db=db)
    assert kept.management_key is None
    assert kept.management_label == ServerState(management_key=KEY).management_label
    kept.close()
    with pytest.raises(ServerConfigError, match="another management key") as refused:
        ServerState(management_key=OTHER_KEY, db=db)
    assert OTHER_KEY not in str(refused.value)
    assert KEY not in str(refused.value)


def test_reset_keeps_the_management_key(tmp_path: Path) -> None:
    """reset() forgets keys but not the database's management key."""
    state = ServerState(management_key=KEY, db=tmp_path / "k.db")
    state.reset()
    state.close()
    with pytest.raises(ServerConfigError):
        ServerState(management_key=OTHER_KEY, db=tmp_path / "k.db")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "99999"], "not a port number"),
        (["--port", "-1"], "not a port number"),
        (["--port", "eighty"], "not a port number"),
        (["--max-connections", "0"], "at least 1"),
        (["--header-timeout", "0"], "positive"),
        (["--db", "{tmp}/missing/keys.db"], "does not exist"),
        (["--db", "{tmp}/not-sqlite.db"], "not an SQLite database"),
        (["--db", "{tmp}"], "is a folder"),
        (["--db", "{tmp}/keyed.db", "--management-key", OTHER_KEY], "another management key"),
    ],
)
def test_bad_options_are_usage_errors_with_exit_status_2(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port out of range, a db in a missing folder, a file that is not SQLite, a folder,
    or another key for an existing db: a one-line usage error, exit 2, no traceback."""
    (tmp_path / "not-sqlite.db").write_text("just some text, certainly not a database\n" * 50)
    ServerState(management_key=KEY, db=tmp_path / "keyed.db").close()
    with pytest.raises(SystemExit) as exit_info:
        server_main([arg.format(tmp=tmp_path) for arg in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert OTHER_KEY not in err


def test_serve_refuses_a_port_out_of_range() -> None:
    """serve() itself checks the port (the CLI's serve command calls it directly)."""
    for port in (99999, -1):
        with pytest.raises(ServerConfigError, match="not a port number"):
            serve(port=port, echo=lambda _: None)


def test_a_server_traceback_does_not_chain_to_a_missing_uvloop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without uvloop, an error raised while serving carries no "uvloop" import failure."""
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError

    def fail(_: Any) -> None:
        raise RuntimeError("boom while serving")

    with pytest.raises(RuntimeError, match="boom") as raised:
        serve(port=0, management_key=KEY, echo=lambda _: None, on_started=fail)
    text = "".join(traceback.format_exception(raised.value))
    assert "During handling of the above exception" not in text
    assert "import of uvloop halted" not in text
    assert raised.value.__context__ is None
