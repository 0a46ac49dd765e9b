"""A Griffe extension: the docstrings' Sphinx roles, as Markdown for mkdocstrings.

The package's docstrings use reST habits (``:class:`BulkResult```, ``:meth:`aclose```, a
paragraph ending in ``::`` before a literal block). Rendered as Markdown they would show the
roles literally. Here a role becomes inline code, linked to the reference entry when it names a
public name of ``modelgates_async``; ``text::`` becomes ``text:`` (the indented block after it
is a Markdown code block already). Loaded from mkdocs.yml; not part of the package.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

import modelgates_async

ROLE = re.compile(r":(?:class|meth|func|attr|exc|data|obj|mod):`~?(?P<target>[^`]+)`")
LITERAL_BLOCK = re.compile(r"(?<=\S)::$", re.MULTILINE)
PUBLIC = frozenset(modelgates_async.__all__)


def _role(match: re.Match[str]) -> str:
    target = match["target"].removesuffix("()")
    name = target.removeprefix("modelgates_async.")
    if name in PUBLIC:
        return f"[`{name}`][modelgates_async.{name}]"
    return f"`{target.rsplit('.', 1)[-1]}`"


def to_markdown(text: str) -> str:
    """The docstring text with roles as code (or links) and ``::`` as ``:``."""
    return LITERAL_BLOCK.sub(":", ROLE.sub(_role, text))


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring of the loaded package with :func:`to_markdown`."""

    def on_object(self, *, obj: griffe.Object, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
