"""The suite's own conventions: every test folder a package, helpers never from a conftest."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_every_folder_with_tests_is_a_package() -> None:
    """Each folder holding test modules has an __init__.py, so module names never collide."""
    folders = {path.parent for path in TESTS.rglob("test_*.py")}
    assert [f for f in sorted(folders) if not (f / "__init__.py").is_file()] == []


def test_no_module_imports_from_a_conftest() -> None:
    """Shared helpers come from tests/helpers.py; conftest files only provide fixtures."""
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").split(".")[-1] == "conftest"
            ):
                offenders.append(f"{path.relative_to(TESTS)}:{node.lineno}")
    assert offenders == []
