"""The baseline contender: an older commit's package unpacked, and workers that refuse to
measure any other ``modelgates_async`` than the one they were given (no timing here)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks.baseline import REPOSITORY, Baseline
from benchmarks.throughput import WorkerPlace, run_worker


def _in_git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    done = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() == "true"


needs_git = pytest.mark.skipif(not _in_git_checkout(), reason="not a git checkout")

# A job no worker knows: the worker gets as far as its package check, then fails by name.
UNKNOWN_JOB = {"kind": "no-such-kind"}


@needs_git
def test_a_commit_is_unpacked_and_a_worker_imports_it() -> None:
    """HEAD's package is unpacked; a worker placed there imports that copy (and no other)."""
    with Baseline("HEAD") as baseline:
        assert baseline.problem is None
        assert baseline.directory is not None
        assert (baseline.directory / "modelgates_async" / "__init__.py").is_file()
        place = WorkerPlace(package_dir=baseline.directory, pythonpath=REPOSITORY)
        result = run_worker(UNKNOWN_JOB, place)
        directory = baseline.directory
    assert "no-such-kind" in result.get("failed", "")  # the package check passed
    assert not directory.exists()  # removed on exit


@needs_git
def test_an_unknown_commit_is_a_contender_that_is_not_available() -> None:
    """A commit git does not know makes the contender n/a, with git's reason."""
    with Baseline("no-such-commit-here") as baseline:
        assert baseline.directory is None
        assert baseline.problem is not None
        assert "no-such-commit-here" in baseline.problem
        place = WorkerPlace(unavailable=baseline.problem)
        assert run_worker(UNKNOWN_JOB, place) == {"unavailable": baseline.problem}


def test_a_worker_never_measures_the_wrong_package(tmp_path: Path) -> None:
    """A directory without the package: the worker says so instead of importing another one."""
    place = WorkerPlace(package_dir=tmp_path, pythonpath=REPOSITORY)
    result = run_worker(UNKNOWN_JOB, place)
    assert "not from" in result.get("unavailable", "")
