"""The API reference covers every public name of the package."""

from __future__ import annotations

import importlib
import re

import modelgates_async
from tests.docs.examples import ROOT

PUBLIC_MODULES = {"testing", "server"}  # documented as whole modules
SUBMODULES = ("redis",)  # public modules whose names are documented one by one
DIRECTIVE = re.compile(r"^:::\s+modelgates_async\.(\S+)\s*$", re.MULTILINE)


def documented_names() -> set[str]:
    text = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "docs" / "reference").glob("*.md")
    )
    return set(DIRECTIVE.findall(text))


def public_names() -> set[str]:
    """``modelgates_async.__all__``, and ``redis.NAME`` for each name of its ``__all__``."""
    names = set(modelgates_async.__all__)
    for module in SUBMODULES:
        public = importlib.import_module(f"modelgates_async.{module}").__all__
        names |= {f"{module}.{name}" for name in public}
    return names


def test_every_public_name_has_a_reference_entry() -> None:
    """Each public name (of ``__all__``, and of modelgates_async.redis) has a ``:::``
    directive in docs/reference."""
    missing = sorted(public_names() - documented_names())
    assert missing == [], f"add '::: modelgates_async.NAME' to docs/reference/ for {missing}"


def test_the_reference_names_only_public_names() -> None:
    """A directive for a name that is not public (a typo, a removed name) is caught here too."""
    assert documented_names() - {*public_names(), *PUBLIC_MODULES} == set()
