"""Every example of README.md and docs/ runs against the local server (see examples.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.docs.examples import Example, collect, run_python, run_subprocess

if TYPE_CHECKING:
    from modelgates_async.server import LocalServer

EXAMPLES = list(collect())


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_example_runs(
    example: Example,
    modelgates_server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The example runs as written against a fresh local server, or says why it cannot."""
    if example.mode == "skip":
        pytest.skip(f"{example.path.name}:{example.line}: {example.reason}")
    env = {
        "MODELGATES_BASE_URL": modelgates_server.base_url,
        "MODELGATES_API_KEY": modelgates_server.management_key,
    }
    if example.language == "python" and example.mode == "run":
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        run_python(example)
    else:
        run_subprocess(example, tmp_path, env)


def test_examples_are_found() -> None:
    """The collector sees the README's and the guides' examples (a broken glob finds none)."""
    pages = {example.path.name for example in EXAMPLES}
    assert {"README.md", "getting-started.md", "testing.md"} <= pages
