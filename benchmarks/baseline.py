"""An older commit's SDK, side by side with the working tree's in the same run.

``git archive <commit> modelgates_async`` is unpacked into a temporary directory; workers
of the contender ``AsyncModelGates@<commit>`` run with that directory as their working
directory (first on ``sys.path`` under ``python -m``) and this repository on
``PYTHONPATH`` for ``benchmarks`` itself, so they import the old ``modelgates_async`` with
today's harness, server and dependencies. Each worker checks where its package came from.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from types import TracebackType

__all__ = ["REPOSITORY", "Baseline"]

REPOSITORY = Path(__file__).resolve().parent.parent


class Baseline:
    """``with Baseline("a4a529b") as base``: ``base.directory`` holds that commit's package.

    ``base.problem`` says why it could not be unpacked (no git, unknown commit); the rows of
    its contender then read "not available".
    """

    def __init__(self, commit: str) -> None:
        self.commit = commit
        self.directory: Path | None = None
        self.problem: str | None = None
        self._temporary: tempfile.TemporaryDirectory[str] | None = None

    @property
    def contender(self) -> str:
        """The contender's name in the table."""
        return f"AsyncModelGates@{self.commit}"

    def __enter__(self) -> Baseline:
        try:
            archive = subprocess.run(
                ["git", "archive", "--format=tar", self.commit, "modelgates_async"],
                cwd=REPOSITORY,
                capture_output=True,
                check=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            self.problem = f"git archive {self.commit} failed: {detail.decode(errors='replace')}"
            self.problem = self.problem.strip()[:200] or f"git archive failed: {exc}"
            return self
        self._temporary = tempfile.TemporaryDirectory(prefix="modelgates-baseline-")
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.10.12+, 3.11.4+
                tar.extractall(self._temporary.name, filter="data")
            else:  # our own repository's archive: trusted
                tar.extractall(self._temporary.name)
        self.directory = Path(self._temporary.name)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._temporary is not None:
            self._temporary.cleanup()
