"""Running the server: background thread, the pytest fixtures, and the command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from modelgates_async.server import LocalServer
from modelgates_async.server.__main__ import main as server_main
from tests.server import helpers


def call(server: Any, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    """A blocking request to ``server`` (as its management key unless ``key``)."""
    return helpers.call(
        server.base_url, method, path, key or server.management_key, body, timeout=10
    )


def test_local_server_runs_in_a_thread_and_stops() -> None:
    """LocalServer answers on 127.0.0.1 from its own thread and frees the port on stop."""
    with LocalServer(management_key="sk-mg-v1-" + "12" * 32) as server:
        running_inside = server.running
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/api/v1", server.base_url)
        status, body = call(server, "GET", "/key")
        assert status == 200
        assert body["data"]["is_management_key"] is True
    assert running_inside
    assert not server.running
    with pytest.raises(OSError):  # noqa: PT011 - refused or reset, either will do
        urllib.request.urlopen(server.base_url + "/key", timeout=5)


def test_local_server_controls_work_from_the_test_thread() -> None:
    """inject_fault, record_usage, clock and reset act on the running server."""
    with LocalServer() as server:
        status, created = call(server, "POST", "/keys", {"name": "k", "limit": 4})
        assert status == 201
        key_hash = created["data"]["hash"]
        server.clock.set(datetime(2025, 1, 5, 23, tzinfo=timezone.utc))
        server.record_usage(key_hash, 1)
        assert call(server, "GET", f"/keys/{key_hash}")[1]["data"]["limit_remaining"] == 3
        server.inject_fault("/keys/*", status=503)
        assert call(server, "GET", f"/keys/{key_hash}")[0] == 503
        server.reset()
        assert call(server, "GET", "/keys")[1] == {"data": []}


def test_local_server_generates_a_management_key_when_none_is_given() -> None:
    """Without a management key the state makes an sk-mg-v1 one."""
    server = LocalServer()
    assert re.fullmatch(r"sk-mg-v1-[0-9a-f]{64}", server.management_key)
    assert server.state.generated_management_key


def test_modelgates_server_fixture_starts_clean(modelgates_server: Any) -> None:
    """The plugin's modelgates_server is running and empty at the start of a test."""
    assert call(modelgates_server, "GET", "/keys")[1] == {"data": []}
    call(modelgates_server, "POST", "/keys", {"name": "left behind"})
    modelgates_server.inject_fault("*", status=500, times=100)


def test_modelgates_server_fixture_forgets_the_previous_test(modelgates_server: Any) -> None:
    """Keys and faults of the previous test are gone (reset between tests)."""
    assert call(modelgates_server, "GET", "/keys") == (200, {"data": []})


async def test_async_modelgates_server_fixture(async_modelgates_server: Any) -> None:
    """async_modelgates_server runs in the test's loop with its own state."""
    assert async_modelgates_server.port > 0
    assert async_modelgates_server.state.store.count() == 0


async def test_async_modelgates_client_fixture_talks_to_the_server(
    async_modelgates_client: Any, modelgates_server: Any
) -> None:
    """async_modelgates_client is an AsyncModelGates bound to modelgates_server."""
    created = await async_modelgates_client.api_keys.create("via sdk")
    assert modelgates_server.state.store.get(created.data.hash) is not None


PLUGIN_TEST = """
import json
import threading
import urllib.request


def test_uses_server(modelgates_server):
    req = urllib.request.Request(
        modelgates_server.base_url + "/key",
        headers={"Authorization": "Bearer " + modelgates_server.management_key},
    )
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read())["data"]["is_management_key"]


def test_server_thread_is_up():
    assert "modelgates-local-server" in [t.name for t in threading.enumerate()]
"""


def test_plugin_in_a_fresh_session(tmp_path: Path) -> None:
    """In a new pytest run the fixtures work and the session server stops at the end."""
    (tmp_path / "test_plugin_use.py").write_text(PLUGIN_TEST)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "filterwarnings = error::ResourceWarning\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def read_until(stream: Any, pattern: str) -> list[str]:
    """Read lines until one matches; return them all."""
    lines = []
    for line in stream:
        lines.append(line)
        if re.search(pattern, line):
            return lines
    raise AssertionError(f"no line matched {pattern!r}: {lines}")


def test_command_line_prints_url_and_generated_key_and_stops_on_ctrl_c() -> None:
    """python -m modelgates_async.server prints the base URL and the new key, stops on SIGINT."""
    env = {k: v for k, v in os.environ.items() if k != "MODELGATES_MANAGEMENT_KEY"}
    child = subprocess.Popen(
        [sys.executable, "-m", "modelgates_async.server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**env, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    with child.stdout:
        try:
            lines = read_until(child.stdout, r"MODELGATES_API_KEY")
            base = re.search(
                r"MODELGATES_BASE_URL=(http://127\.0\.0\.1:\d+/api/v1)", "".join(lines)
            )
            key = re.search(r"export MODELGATES_API_KEY=(sk-mg-v1-[0-9a-f]{64})", lines[-1])
            assert base is not None
            assert key is not None
            assert helpers.call(base.group(1), "GET", "/key", key.group(1), timeout=10)[0] == 200
        finally:
            child.send_signal(signal.SIGINT)
            assert child.wait(timeout=10) == 0
        rest = child.stdout.read()
    assert "stopped" in rest
    assert key.group(1) not in rest


def test_serve_does_not_print_a_given_management_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --management-key the key is never printed; env MODELGATES_MANAGEMENT_KEY works."""
    given = "sk-mg-v1-" + "77" * 32
    monkeypatch.setenv("MODELGATES_MANAGEMENT_KEY", given)
    seen: list[Any] = []

    def fake_serve(**options: Any) -> None:
        seen.append(options)

    monkeypatch.setattr("modelgates_async.server.__main__.serve", fake_serve)
    server_main(["--port", "0", "--rate-limit", "5", "--db", "x.db"])
    assert seen == [
        {
            "host": "127.0.0.1",
            "port": 0,
            "management_key": None,
            "db": "x.db",
            "rate_limit": 5.0,
            "access_log": False,
            "header_timeout": 10.0,
            "max_connections": None,
        }
    ]


def test_serve_with_a_given_key_prints_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """serve() with an env management key announces the URL but never the key."""
    from modelgates_async.server import serve

    given = "sk-mg-v1-" + "78" * 32
    monkeypatch.setenv("MODELGATES_MANAGEMENT_KEY", given)
    printed: list[str] = []

    def started(server: Any) -> None:
        assert server.management_key == given
        os.kill(os.getpid(), signal.SIGTERM)

    serve(port=0, echo=printed.append, on_started=started)
    text = "\n".join(printed)
    assert "MODELGATES_BASE_URL=http://127.0.0.1:" in text
    assert given not in text
    assert "stopped" in text


def test_command_line_exits_1_when_the_port_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    """A taken port ends `python -m modelgates_async.server` with status 1 and a message."""
    with LocalServer() as taken:
        with pytest.raises(SystemExit) as exit_info:
            server_main(["--port", str(taken.port), "--management-key", "k" * 20])
        assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert f"127.0.0.1:{taken.port}" in err
    assert "k" * 20 not in err
