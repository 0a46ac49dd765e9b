"""The examples collector itself: a broken example fails, and skipping is never silent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.docs.examples import MarkerError, find_examples, run_python, run_subprocess

if TYPE_CHECKING:
    from modelgates_async import ModelGates
    from modelgates_async.server import LocalServer


def page(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def server_env(modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "MODELGATES_BASE_URL": modelgates_server.base_url,
        "MODELGATES_API_KEY": modelgates_server.management_key,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


BROKEN = """\
# A page

```python
from modelgates_async import ModelGates

with ModelGates() as mg:
    mg.api_keys.create(nam="Tenant 42")  # a misspelt argument: the API drifted
```
"""


def test_a_broken_python_example_fails(tmp_path: Path, server_env: dict[str, str]) -> None:
    """An example that no longer matches the API raises, so its test fails."""
    (example,) = find_examples(page(tmp_path, BROKEN))
    assert (example.language, example.mode, example.line) == ("python", "run", 3)
    with pytest.raises(TypeError, match="nam"):
        run_python(example)


def test_a_working_example_with_top_level_await_runs(
    tmp_path: Path, server_env: dict[str, str], modelgates_client: ModelGates
) -> None:
    """A block with top-level ``await`` runs as one coroutine against the local server."""
    text = BROKEN.replace("nam=", "name=").replace(
        "with ModelGates() as mg:", "async with AsyncModelGates() as mg:"
    )
    text = text.replace("import ModelGates", "import AsyncModelGates").replace(
        "    mg.api_keys", "    await mg.api_keys"
    )
    (example,) = find_examples(page(tmp_path, text))
    run_python(example)
    assert [key.name for key in modelgates_client.api_keys.list()] == ["Tenant 42"]


def test_a_failing_bash_example_fails(tmp_path: Path, server_env: dict[str, str]) -> None:
    """A CLI example whose command fails makes the test fail, with the command's output."""
    text = "```bash\nmodelgates keys get no-such-hash\n```\n"
    (example,) = find_examples(page(tmp_path, text))
    with pytest.raises(AssertionError, match="exited 1"):
        run_subprocess(example, tmp_path, server_env)


def test_a_failing_pytest_example_fails(tmp_path: Path) -> None:
    """A test-module example runs under pytest with the fixtures; a failing test fails it."""
    text = (
        "<!-- example: pytest -->\n```python\n"
        "def test_no_keys(modelgates_client):\n"
        "    assert modelgates_client.api_keys.list() == ['not empty']\n```\n"
    )
    (example,) = find_examples(page(tmp_path, text))
    assert example.mode == "pytest"
    with pytest.raises(AssertionError, match="1 failed"):
        run_subprocess(example, tmp_path, {})


def test_skip_needs_a_reason_and_shows_it(tmp_path: Path) -> None:
    """``skip (why)`` skips with its reason in the id; a bare ``skip`` is refused."""
    (example,) = find_examples(
        page(tmp_path, "<!-- example: skip (needs a real account) -->\n```python\nboom\n```\n")
    )
    assert (example.mode, example.reason) == ("skip", "needs a real account")
    assert example.id.endswith("[skip: needs a real account]")
    with pytest.raises(MarkerError, match="unknown marker"):
        find_examples(page(tmp_path, "<!-- example: skip -->\n```python\nboom\n```\n"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<!-- example: skp (typo) -->\n```python\npass\n```\n", "unknown marker"),
        ("<!-- example: skip (x) -->\n```yaml\na: 1\n```\n", "before a 'yaml' block"),
        ("<!-- example: replace 99 with 1 (x) -->\n```python\npass\n```\n", "does not occur"),
        ("<!-- example: pytest -->\n```bash\ntrue\n```\n", "python blocks only"),
    ],
)
def test_a_marker_that_cannot_apply_is_an_error(tmp_path: Path, text: str, message: str) -> None:
    """A typo or a misplaced marker is an error, never a silently skipped example."""
    with pytest.raises(MarkerError, match=message):
        find_examples(page(tmp_path, text))


def test_replace_changes_the_code_that_runs(tmp_path: Path) -> None:
    """``replace OLD with NEW`` runs the block with NEW in place of OLD."""
    text = "<!-- example: replace 10_000 with 2 (lighter) -->\n```python\nn = 10_000\n```\n"
    (example,) = find_examples(page(tmp_path, text))
    assert example.source == "n = 2\n"


def test_indented_blocks_in_tabs_are_found(tmp_path: Path) -> None:
    """Blocks indented under a content tab or admonition are found and dedented."""
    text = '=== "Sync"\n\n    <!-- example: skip (x) -->\n    ```python\n    a = 1\n    ```\n'
    (example,) = find_examples(page(tmp_path, text))
    assert (example.source, example.mode) == ("a = 1\n", "skip")


def test_examples_using_the_shared_limiter_are_told_apart(tmp_path: Path) -> None:
    """Only an example naming MODELGATES_REDIS_URL, modelgates_async.redis or --redis gets a
    Redis; the others never see one."""
    blocks = [
        'import os\nurl = os.environ["MODELGATES_REDIS_URL"]',
        "from modelgates_async.redis import limiter_from_env_or_url",
        'modelgates keys bulk-create t.csv --redis "$URL"',
        "modelgates keys bulk-create t.csv --out redistributed.jsonl",
        "import redis",
    ]
    text = "\n".join(
        f"```{'bash' if 'modelgates keys' in code else 'python'}\n{code}\n```\n" for code in blocks
    )
    found = find_examples(page(tmp_path, text))
    assert [example.needs_redis for example in found] == [True, True, True, False, False]
