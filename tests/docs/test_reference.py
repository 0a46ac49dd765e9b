"""The API reference covers every public name of the package."""

from __future__ import annotations

import re

import modelgates_async
from tests.docs.examples import ROOT

PUBLIC_MODULES = {"testing", "server"}  # documented as whole modules
DIRECTIVE = re.compile(r"^:::\s+modelgates_async\.(\S+)\s*$", re.MULTILINE)


def documented_names() -> set[str]:
    text = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "docs" / "reference").glob("*.md")
    )
    return set(DIRECTIVE.findall(text))


def test_every_public_name_has_a_reference_entry() -> None:
    """Each name of ``modelgates_async.__all__`` has a ``:::`` directive in docs/reference."""
    missing = sorted(set(modelgates_async.__all__) - documented_names())
    assert missing == [], f"add '::: modelgates_async.NAME' to docs/reference/ for {missing}"


def test_the_reference_names_only_public_names() -> None:
    """A directive for a name that is not public (a typo, a removed name) is caught here too."""
    public = {*modelgates_async.__all__, *PUBLIC_MODULES}
    assert documented_names() - public == set()
