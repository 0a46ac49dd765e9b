"""Find the fenced examples of README.md and docs/**/*.md, and run them.

Every ```python and ```bash block is an example and runs, unless the line right before its
fence says otherwise with an HTML comment (invisible on the rendered page, visible in review):

- ``<!-- example: skip (why) -->`` — not run; the reason is required and shown in the test id.
- ``<!-- example: pytest -->`` — a test module: run with pytest, with the package's fixtures
  and pytest-asyncio loaded.
- ``<!-- example: replace OLD with NEW (why) -->`` — run with OLD replaced by NEW (e.g. fewer
  keys than the page shows, to keep the test's load small); OLD must occur in the block.

A Python block runs in this process with ``MODELGATES_BASE_URL`` / ``MODELGATES_API_KEY``
pointing at the local server; top-level ``await`` is allowed (as in ``python -m asyncio``).
A bash block runs with ``bash -euo pipefail`` in a temporary directory, with the same
environment and this interpreter's ``bin`` first on ``PATH`` (so ``modelgates`` is ours).
Blocks of any other language (``text``, ``console``, ``yaml``, ``mermaid``...) are not run.

An example that uses the shared rate limiter (it names ``MODELGATES_REDIS_URL``,
``modelgates_async.redis`` or ``--redis``) also gets ``MODELGATES_REDIS_URL``: a real
redis-server of the test session, emptied before each such example. Without the
``redis-server`` binary those examples skip, saying so (under ``CI=true`` they fail instead).
No other example sees a ``MODELGATES_REDIS_URL``.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import linecache
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_LANGUAGES = {"python": "python", "py": "python", "bash": "bash", "sh": "bash"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
MARKER = re.compile(r"^\s*<!--\s*example:\s*(?P<body>.*?)\s*-->\s*$")
SKIP = re.compile(r"^skip\s*\((?P<reason>.+)\)$")
REPLACE = re.compile(r"^replace\s+(?P<old>\S+)\s+with\s+(?P<new>\S+)\s*\((?P<reason>.+)\)$")
EXAMPLE_TIMEOUT = 120.0
REDIS_USE = re.compile(r"MODELGATES_REDIS_URL|modelgates_async\.redis|--redis\b")


class MarkerError(ValueError):
    """A marker that the collector does not understand (a typo must not skip an example)."""


@dataclass(frozen=True)
class Example:
    """One fenced block: where it is, its language, its code and what its marker says."""

    path: Path
    line: int  # 1-based line of the opening fence
    language: str  # "python" or "bash"
    source: str
    mode: str = "run"  # "run", "skip" or "pytest"
    reason: str = ""

    @property
    def id(self) -> str:
        """``docs/guides/x.md:12`` (and ``[skip: why]`` when skipped), for test ids."""
        try:
            where = self.path.relative_to(ROOT)
        except ValueError:
            where = self.path
        suffix = f" [skip: {self.reason}]" if self.mode == "skip" else ""
        return f"{where}:{self.line}{suffix}"

    @property
    def needs_redis(self) -> bool:
        """Whether the example uses the shared rate limiter, and so a Redis."""
        return REDIS_USE.search(self.source) is not None


def markdown_files(root: Path = ROOT) -> list[Path]:
    """README.md and every Markdown file under docs/, in a stable order."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def find_examples(path: Path) -> list[Example]:
    """Every python/bash block of one Markdown file, with its marker applied."""
    lines = path.read_text(encoding="utf-8").splitlines()
    examples: list[Example] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        words = opening["info"].split()
        language = words[0].lower() if words else ""
        end = index + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and lines[end].strip().strip(fence[0]) == ""
        ):
            end += 1
        body = [
            line[len(indent) :] if line.startswith(indent) else line
            for line in lines[index + 1 : end]
        ]
        marker = _marker_before(lines, index)
        if language in RUN_LANGUAGES:
            examples.append(_example(path, index + 1, RUN_LANGUAGES[language], body, marker))
        elif marker is not None:
            raise MarkerError(f"{path}:{index + 1}: an example marker before a {language!r} block")
        index = end + 1
    return examples


def _marker_before(lines: list[str], fence_index: int) -> str | None:
    previous = fence_index - 1
    while previous >= 0 and not lines[previous].strip():
        previous -= 1
    if previous < 0:
        return None
    found = MARKER.match(lines[previous])
    return found["body"] if found else None


def _example(path: Path, line: int, language: str, body: list[str], marker: str | None) -> Example:
    source = "\n".join(body) + "\n"
    if marker is None:
        return Example(path, line, language, source)
    if skipped := SKIP.match(marker):
        return Example(path, line, language, source, "skip", skipped["reason"].strip())
    if marker == "pytest":
        if language != "python":
            raise MarkerError(f"{path}:{line}: 'pytest' applies to python blocks only")
        return Example(path, line, language, source, "pytest")
    if replaced := REPLACE.match(marker):
        old, new = replaced["old"], replaced["new"]
        if old not in source:
            raise MarkerError(f"{path}:{line}: {old!r} to replace does not occur in the block")
        return Example(path, line, language, source.replace(old, new))
    raise MarkerError(
        f"{path}:{line}: unknown marker {marker!r}; use 'skip (why)', 'pytest' or "
        "'replace OLD with NEW (why)'"
    )


def collect(root: Path = ROOT) -> Iterator[Example]:
    """Every example of the README and the docs."""
    for path in markdown_files(root):
        yield from find_examples(path)


def run_python(example: Example) -> None:
    """Run a Python block in a fresh namespace as ``__main__``; its exception propagates."""
    filename = f"<example {example.id}>"
    # Tracebacks show the example's own lines.
    linecache.cache[filename] = (
        len(example.source),
        None,
        example.source.splitlines(keepends=True),
        filename,
    )
    code = compile(example.source, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, object] = {"__name__": "__main__"}
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))  # top-level await: the block is one coroutine
    else:
        exec(code, namespace)


def run_subprocess(example: Example, workdir: Path, env: Mapping[str, str]) -> None:
    """Run a bash block, or a pytest block as a test module, in ``workdir``.

    Raises ``AssertionError`` with the output when the block fails.
    """
    environment = {**os.environ, **env}
    environment["PATH"] = str(Path(sys.executable).parent) + os.pathsep + environment["PATH"]
    if example.mode == "pytest":
        module = workdir / "test_example.py"
        module.write_text(example.source, encoding="utf-8")
        # Only the plugins an example needs: autoloading every installed plugin (schemathesis,
        # hypothesis...) triples the start-up time of each run.
        environment["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "modelgates_async.testing",
            "-p",
            "pytest_asyncio.plugin",
            "-o",
            "asyncio_default_fixture_loop_scope=function",
            str(module),
        ]
        # The server of a pytest block is the fixtures' own, not ours.
        for name in ("MODELGATES_BASE_URL", "MODELGATES_API_KEY"):
            environment.pop(name, None)
    else:
        command = ["bash", "-euo", "pipefail", "-c", example.source]
    done = subprocess.run(
        command,
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=EXAMPLE_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"example {example.id} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
