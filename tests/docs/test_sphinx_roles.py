"""The Griffe extension that turns the docstrings' reST roles into Markdown for the site."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.docs.examples import ROOT


def load_extension() -> ModuleType:
    pytest.importorskip("griffe", reason="the docs extra (mkdocstrings) is not installed")
    path = ROOT / "docs" / "_ext" / "sphinx_roles.py"
    spec = importlib.util.spec_from_file_location("sphinx_roles", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_roles_become_links_or_code_and_literal_blocks_lose_a_colon() -> None:
    """A public name links to its reference entry, anything else is code, ``x::`` is ``x:``."""
    to_markdown = load_extension().to_markdown
    assert to_markdown("a :class:`BulkResult`") == "a [`BulkResult`][modelgates_async.BulkResult]"
    assert to_markdown(":meth:`~AsyncAPIKeys.rotate`") == "`rotate`"
    assert to_markdown(":meth:`aclose`, ok") == "`aclose`, ok"
    assert to_markdown("Control it::\n\n    code") == "Control it:\n\n    code"
