"""Reading the async source: parse modules with ``ast`` (never import them), index what each
module imports and defines, and find the class or function a name refers to."""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PACKAGE",
    "ROOT",
    "GenerationError",
    "Module",
    "load_module",
    "resolve_class",
    "resolve_function",
]

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGE = "modelgates_async"


class GenerationError(Exception):
    """The async source uses something the generator does not know how to mirror."""


@dataclass
class Module:
    """One parsed source module and where each of its top-level names comes from."""

    name: str
    tree: ast.Module
    # name -> (import statement, under TYPE_CHECKING)
    imports: dict[str, tuple[str, bool]] = field(default_factory=dict)
    defined: set[str] = field(default_factory=set)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)


_modules: dict[str, Module] = {}


def _source_of(name: str) -> tuple[Path, bool]:
    """The source file of module ``name`` and whether it is a package.

    Found by path under the repository first: the generator only parses source, so it
    must not import the package (and aiohttp with it) — ``python3 tools/gen_sync.py
    --check`` then works in any interpreter that has ruff.
    """
    base = ROOT.joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py", True
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py"), False
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise GenerationError(f"cannot find the source of {name}")
    return Path(spec.origin), spec.submodule_search_locations is not None


def load_module(name: str) -> Module:
    """Parse ``name`` (a module of the package) and index its imports and definitions."""
    if name in _modules:
        return _modules[name]
    origin, is_package = _source_of(name)
    tree = ast.parse(origin.read_text(encoding="utf-8"), filename=str(origin))
    module = Module(name, tree)
    package = name if is_package else name.rpartition(".")[0]
    for node, guarded in _top_level(tree.body, guarded=False):
        if isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base == "__future__":
                continue
            for alias in node.names:
                bound = alias.asname or alias.name
                text = f"from {base} import {alias.name}"
                if alias.asname:
                    text += f" as {alias.asname}"
                module.imports[bound] = (text, guarded)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.partition(".")[0]
                text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                module.imports[bound] = (text, guarded)
        elif isinstance(node, ast.ClassDef):
            module.defined.add(node.name)
            module.classes[node.name] = node
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            module.defined.add(node.name)
            module.functions[node.name] = node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                module.defined.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            module.defined.add(node.target.id)
    _modules[name] = module
    return module


def _top_level(body: list[ast.stmt], *, guarded: bool) -> Iterator[tuple[ast.stmt, bool]]:
    for node in body:
        if isinstance(node, ast.If):
            is_guard = "TYPE_CHECKING" in ast.unparse(node.test)
            yield from _top_level(node.body, guarded=guarded or is_guard)
            yield from _top_level(node.orelse, guarded=guarded)
        elif isinstance(node, ast.Try):
            yield from _top_level(node.body, guarded=guarded)
        else:
            yield node, guarded


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def is_ours(module_name: str) -> bool:
    """Whether a module's source is in this repository (the package, or a test's fake)."""
    base = ROOT.joinpath(*module_name.split("."))
    return module_name.startswith(PACKAGE) or (
        (base / "__init__.py").is_file() or base.with_suffix(".py").is_file()
    )


def _imported(module: Module, name: str) -> tuple[Module, str] | None:
    """The module of ours that ``module`` imports ``name`` from, and its name there."""
    if name in module.imports:
        statement = module.imports[name][0]
        match = re.fullmatch(r"from (\S+) import (\S+)(?: as \S+)?", statement)
        if match and is_ours(match.group(1)):
            return load_module(match.group(1)), match.group(2)
    return None


def resolve_class(module: Module, name: str) -> tuple[Module, ast.ClassDef]:
    """The module and class node that ``name`` refers to inside ``module``."""
    if name in module.classes:
        return module, module.classes[name]
    imported = _imported(module, name)
    if imported is not None:
        return resolve_class(*imported)
    raise GenerationError(f"cannot find class {name} from {module.name}")


def resolve_function(
    module: Module, name: str
) -> tuple[Module, ast.FunctionDef | ast.AsyncFunctionDef] | None:
    """The module and def that ``name`` refers to inside ``module``, if it is ours."""
    if name in module.functions:
        return module, module.functions[name]
    imported = _imported(module, name)
    return None if imported is None else resolve_function(*imported)
