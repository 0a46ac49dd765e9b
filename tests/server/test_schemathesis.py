"""Schemathesis finds no response of the local server that breaks the OpenAPI spec."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("schemathesis")

import modelgates_async.server
from modelgates_async.server import LocalServer

SPEC = Path(modelgates_async.server.__file__).with_name("openapi.yaml")
RUN_SCHEMATHESIS = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"


def test_the_packaged_spec_is_the_shared_one() -> None:
    """The spec copy in the package matches ../shared/spec/openapi.yaml when that exists."""
    shared = Path(__file__).resolve().parents[3] / "shared" / "spec" / "openapi.yaml"
    if not shared.exists():
        pytest.skip("no ../shared/spec/openapi.yaml next to the repository")
    assert SPEC.read_text() == shared.read_text()


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
            capture_output=True,
            text=True,
            timeout=300,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No issues found" in output, output
    assert "Authentication failed" not in output, output
