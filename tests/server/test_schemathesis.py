"""Schemathesis finds no response of the local server that breaks the OpenAPI spec."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("schemathesis")

import modelgates_async.server
from modelgates_async.server import LocalServer

SPEC = Path(modelgates_async.server.__file__).with_name("openapi.yaml")
HOOKS_DIR = Path(__file__).resolve().parent
RUN_SCHEMATHESIS = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"


def test_the_packaged_spec_is_the_shared_one() -> None:
    """The spec copy in the package matches ../shared/spec/openapi.yaml when that exists."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "spec" / "openapi.yaml"
    if not shared.exists():
        pytest.skip("no ../shared/spec/openapi.yaml next to the repository")
    assert SPEC.read_text() == shared.read_text()


def test_the_hook_leaves_out_only_blank_names() -> None:
    """The body filter drops blank names and keeps every other body."""
    sys.path.insert(0, str(HOOKS_DIR))
    try:
        from schemathesis_hooks import filter_body  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(HOOKS_DIR))
    assert not filter_body(None, {"name": " "})
    assert not filter_body(None, {"name": "\x1c"})
    assert filter_body(None, {"name": "a"})
    assert filter_body(None, {"disabled": True})
    assert filter_body(None, [1, 2])


def test_schemathesis_finds_no_spec_violation_and_no_server_error(tmp_path: Path) -> None:
    """`st run --checks all` (coverage, fuzzing, stateful links) passes against the server."""
    with LocalServer() as server:
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                RUN_SCHEMATHESIS,
                "run",
                str(SPEC),
                "--url",
                server.base_url,
                "--header",
                f"Authorization: Bearer {server.management_key}",
                "--checks",
                "all",
                "--max-examples",
                "25",
                "--seed",
                "20250101",
                "--continue-on-failure",
                "--workers",
                "1",
                "--no-color",
            ],
            cwd=tmp_path,  # no stray config or hypothesis database in the repository
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "schemathesis_hooks",  # the spec's "not blank" name rule
                "PYTHONPATH": os.pathsep.join([str(HOOKS_DIR), os.environ.get("PYTHONPATH", "")]),
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No issues found" in output, output
    assert "Authentication failed" not in output, output
