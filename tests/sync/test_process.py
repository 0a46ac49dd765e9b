"""Whole processes: os.fork() children and interpreter exit with clients left open.

Each case runs a script in a fresh interpreter with ``-X dev`` (every ResourceWarning shown,
asyncio debug mode) and asserts that it succeeded with nothing at all on stderr: no
"Unclosed client session", "Event loop is closed", unraisable exception or thread warning.
Both loops are covered: uvloop (the default when installed) and asyncio's own.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from modelgates_async.server import LocalServer
from tests.helpers import ROOT

HERE = Path(__file__).resolve().parent
LOOPS = [
    pytest.param("", id="default-loop"),
    pytest.param("asyncio", id="asyncio-loop"),
]


# asyncio's debug mode (-X dev) reports callbacks slower than 0.1 s: load on a 2-core CI
# machine, not a cleanliness problem. Every other line on stderr still fails the test.
_SLOW_CALLBACK = re.compile(r"^Executing <.*> took \d+\.\d+ seconds$")


def significant_stderr(stderr: str) -> str:
    """stderr without asyncio's slow-callback notices."""
    return "".join(
        line for line in stderr.splitlines(keepends=True) if not _SLOW_CALLBACK.match(line.strip())
    )


def run_script(script: str, loop: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MODELGATES_SYNC_LOOP": loop, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-X", "dev", str(HERE / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("child_exit", ["exit", "os._exit"])
def test_forked_child_gets_a_fresh_loop_and_session(
    modelgates_server: LocalServer, loop: str, child_exit: str
) -> None:
    """A client used before fork works in the child (new loop and session) and still in the
    parent; the child exits cleanly, by sys.exit or os._exit, without touching the
    parent's session."""
    result = run_script(
        "_fork_script.py",
        loop,
        modelgates_server.base_url,
        modelgates_server.management_key,
        child_exit,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "child got before-fork\nparent ok\n"
    assert significant_stderr(result.stderr) == ""


def test_slow_callback_notices_are_the_only_lines_ignored() -> None:
    """The stderr filter drops asyncio's slow-callback notice and nothing else."""
    notice = "Executing <Task finished name='Task-1' coro=<f() done>> took 0.250 seconds\n"
    leak = "ResourceWarning: unclosed <socket.socket fd=5>\n"
    assert significant_stderr(notice) == ""
    assert significant_stderr(notice + leak) == leak


@pytest.mark.parametrize("loop", LOOPS)
def test_interpreter_exit_cleans_up_open_clients(modelgates_server: LocalServer, loop: str) -> None:
    """A client never closed, one collected open and a half-consumed generator are all
    cleaned at interpreter exit with a silent stderr."""
    result = run_script(
        "_exit_script.py", loop, modelgates_server.base_url, modelgates_server.management_key
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert significant_stderr(result.stderr) == ""
