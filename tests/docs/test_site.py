"""The site and the front pages stay true to the code: the nav lists every page, the error tree
is errors.py's, CONTRIBUTING.md's layout is the package's, and relative links resolve."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from modelgates_async import errors
from tests.docs.examples import ROOT

DOCS = ROOT / "docs"
PACKAGE = ROOT / "modelgates_async"


class _NavLoader(yaml.SafeLoader):
    """mkdocs.yml with its ``!!python/name:`` tags read as nothing (only the nav matters)."""


_NavLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)


def nav_pages(node: Any) -> set[str]:
    """Every page path named anywhere in mkdocs.yml's ``nav``."""
    if isinstance(node, str):
        return {node}
    if isinstance(node, list):
        return set().union(*(nav_pages(item) for item in node))
    if isinstance(node, dict):
        return set().union(*(nav_pages(value) for value in node.values()))
    return set()


def test_every_page_is_in_the_nav() -> None:
    """Each .md under docs/ (but the excluded _ext/) is reachable from the nav, and the nav
    names no page that is gone."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_NavLoader)
    in_nav = nav_pages(config["nav"])
    pages = {
        path.relative_to(DOCS).as_posix()
        for path in DOCS.rglob("*.md")
        if "_ext" not in path.relative_to(DOCS).parts
    }
    assert pages - in_nav == set(), "add these pages to the nav of mkdocs.yml"
    assert in_nav - pages == set(), "the nav names pages that do not exist"


# --- the error tree -----------------------------------------------------------------------

NODE = re.compile(r'\b(?P<id>[A-Za-z0-9]+)\[(?P<label>"[^"]*"|[^\]]*)\]')
EDGE = re.compile(r"^\s*(?P<parent>[A-Za-z0-9]+)\s*-->\s*(?P<child>[A-Za-z0-9]+)", re.MULTILINE)


def error_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined in errors.py, by name."""
    return {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if cls.__module__ == errors.__name__ and issubclass(cls, BaseException)
    }


def drawn_tree() -> tuple[dict[str, str], set[tuple[str, str]]]:
    """The Mermaid tree of docs/errors.md: node labels by id, and (parent, child) name pairs."""
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    diagram = text.split("```mermaid", 1)[1].split("```", 1)[0]
    labels: dict[str, str] = {}
    for node in NODE.finditer(diagram):
        labels[node["id"]] = node["label"].strip('"')
    names = {node_id: re.split(r"[\s<]", label, maxsplit=1)[0] for node_id, label in labels.items()}
    edges = {(names[e["parent"]], names[e["child"]]) for e in EDGE.finditer(diagram)}
    return {names[node_id]: label for node_id, label in labels.items()}, edges


def test_the_drawn_error_tree_is_errors_py() -> None:
    """docs/errors.md draws every exception class of errors.py under its parent, and nothing
    else; each builtin it also is (ValueError, TimeoutError…) is named in its box."""
    classes = error_classes()
    labels, edges = drawn_tree()
    expected = {
        (base.__name__, name)
        for name, cls in classes.items()
        for base in cls.__bases__
        if base.__name__ in classes
    }
    assert set(labels) == set(classes), "the diagram's classes differ from errors.py's"
    assert edges == expected
    for name, cls in classes.items():
        for base in cls.__bases__:
            if base.__name__ not in classes and base is not Exception:
                assert f"also a {base.__name__}" in labels[name], name


def test_each_status_error_shows_its_status() -> None:
    """Each APIStatusError subclass's box names the status its docstring starts with."""
    labels, _ = drawn_tree()
    for name, cls in error_classes().items():
        if issubclass(cls, errors.APIStatusError) and cls is not errors.APIStatusError:
            status = (cls.__doc__ or "").split(":", 1)[0].strip()
            assert status, name
            assert status in labels[name], name


# --- CONTRIBUTING.md's layout ---------------------------------------------------------------

LAYOUT_LINE = re.compile(r"^(?P<indent> *)(?P<name>\S+)")


def layout_paths() -> set[str]:
    """The paths CONTRIBUTING.md's layout names under modelgates_async/, by indentation."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    block = text.split("[start:layout]", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    paths: set[str] = set()
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        found = LAYOUT_LINE.match(line)
        if found is None:
            continue
        indent, name = len(found["indent"]), found["name"]
        if indent > 0 and not (name.endswith((".py", "/"))):
            continue  # a description's continuation line
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "".join(part for _, part in stack) + name
        stack.append((indent, name if name.endswith("/") else name + "/"))
        paths.add(path)
    return {path for path in paths if path.startswith("modelgates_async/")}


def package_paths() -> set[str]:
    """Every module and subpackage of the package (a subpackage's ``__init__``/``__main__``
    are its own line)."""
    paths = set()
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if "__pycache__" in relative.parts:
            continue
        if len(relative.parts) > 2 and path.name in {"__init__.py", "__main__.py"}:
            continue
        paths.add(relative.as_posix())
    for directory in PACKAGE.iterdir():
        if directory.is_dir() and (directory / "__init__.py").exists():
            paths.add(directory.relative_to(ROOT).as_posix() + "/")
    return paths


def test_contributing_lists_every_module() -> None:
    """CONTRIBUTING.md's layout names each module of the package where it lives, and no
    module that is gone."""
    listed = layout_paths()
    assert package_paths() - listed == set(), "add these modules to CONTRIBUTING.md's layout"
    assert listed - package_paths() - {"modelgates_async/"} == set(), "these are gone"


# --- links of the front pages ---------------------------------------------------------------

LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def slug(heading: str) -> str:
    """The anchor Python-Markdown's toc gives a heading."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"[\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings."""
    text = path.read_text(encoding="utf-8")
    return {slug(line.lstrip("#")) for line in text.splitlines() if re.match(r"^#{1,6} ", line)}


@pytest.mark.parametrize("page", ["README.md", "CONTRIBUTING.md"])
def test_relative_links_resolve(page: str) -> None:
    """Every relative link of the page names a file that exists, and an anchor it has (the
    site's links are checked by mkdocs --strict; these pages are not part of it)."""
    source = ROOT / page
    broken = []
    for found in LINK.finditer(source.read_text(encoding="utf-8")):
        target = found["target"]
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        file_part, _, anchor = target.partition("#")
        path = (source.parent / file_part) if file_part else source
        if not path.exists() or (anchor and path.suffix == ".md" and anchor not in anchors(path)):
            broken.append(target)
    assert broken == []


# --- no work-in-progress wording ---------------------------------------------------------------

UNFINISHED = re.compile(
    r"in progress|lands? with issue|once (?:they|it) lands?|arrives? with issue"
)


def test_no_work_in_progress_wording() -> None:
    """The README, the docs and the changelog describe what is, not what is being built."""
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *DOCS.rglob("*.md")]
    found = [
        f"{page.relative_to(ROOT)}: {line.strip()}"
        for page in pages
        for line in page.read_text(encoding="utf-8").splitlines()
        if UNFINISHED.search(line.lower())
    ]
    assert found == []
