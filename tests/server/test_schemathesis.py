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


def shared_spec() -> Path | None:
    """The nearest ``shared/spec/openapi.yaml`` beside the repository or a folder above it
    (a worktree sits one level deeper than the main checkout)."""
    repository = Path(__file__).resolve().parents[2]
    for folder in repository.parents:
        candidate = folder / "shared" / "spec" / "openapi.yaml"
        if candidate.is_file():
            return candidate
    return None


def test_the_packaged_spec_is_the_shared_one() -> None:
    """The spec copy in the package is byte for byte ../shared/spec/openapi.yaml."""
    shared = shared_spec()
    if shared is None:
        pytest.skip(
            "no shared/spec/openapi.yaml beside the repository (a plain clone): nothing to "
            "compare the packaged spec with; the schemathesis run still tests the packaged one"
        )
    assert SPEC.read_bytes() == shared.read_bytes()


def test_the_hook_leaves_out_only_bodies_without_an_update_field() -> None:
    """The body filter drops objects with no accepted field and keeps every other body."""
    from .schemathesis_hooks import filter_body

    assert not filter_body(None, {})
    assert not filter_body(None, {"colour": "blue"})
    assert filter_body(None, {"name": " "})
    assert filter_body(None, {"disabled": True})
    assert filter_body(None, {"workspace_id": "x"})
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
                "SCHEMATHESIS_HOOKS": "schemathesis_hooks",  # the "No update fields" rule
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
