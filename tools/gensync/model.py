"""The model of what to write: the sync classes, found by following the client's resource
namespaces, and their members, found in each async class and the bases and mixins it inherits.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from .reading import GenerationError, Module, load_module, resolve_class, resolve_function

__all__ = [
    "ASYNC_ITERATOR_TYPES",
    "RETURN_TYPE_RENAMES",
    "Expr",
    "Member",
    "SyncClass",
    "class_chain",
    "discover",
    "is_async_generator",
    "members_of",
    "sync_name",
]

ASYNC_PREFIX = "Async"
# Return-type names that become their synchronous counterparts.
# The facade returns a generator for each of them, so that ``.close()`` type-checks too.
RETURN_TYPE_RENAMES = {
    "AsyncIterator": "Generator",
    "AsyncIterable": "Generator",
    "AsyncGenerator": "Generator",
}
ASYNC_ITERATOR_TYPES = frozenset(RETURN_TYPE_RENAMES)


@dataclass
class Expr:
    """An expression to emit, with the module whose names it uses."""

    node: ast.expr
    home: Module


@dataclass
class Member:
    """One member of a generated class."""

    kind: str  # method | generator | close | enter | exit | property | setter | repr | init
    name: str
    node: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    doc: str | None = None
    annotation: Expr | None = None  # properties
    overloads: list[ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=list)
    home: Module | None = None  # the module that defines it (a base class's, maybe)


@dataclass
class SyncClass:
    """A sync class to write and the async class it wraps."""

    async_name: str
    name: str
    module: Module
    node: ast.ClassDef
    is_root: bool
    members: list[Member] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)  # attribute -> async class


def sync_name(async_name: str) -> str:
    """``AsyncAPIKeys`` → ``APIKeys``."""
    if not async_name.startswith(ASYNC_PREFIX) or len(async_name) == len(ASYNC_PREFIX):
        raise GenerationError(f"{async_name}: async classes are named Async<Name>")
    return async_name[len(ASYNC_PREFIX) :]


def discover(module_name: str, class_name: str) -> list[SyncClass]:
    """The root class and every resource class reachable from it, root first."""
    found: dict[str, SyncClass] = {}
    pending = [(load_module(module_name), class_name, True)]
    while pending:
        module, name, is_root = pending.pop(0)
        home, node = resolve_class(module, name)
        if name in found:
            continue
        cls = SyncClass(name, sync_name(name), home, node, is_root)
        found[name] = cls
        init = _method(node, "__init__")
        for target, value, _ in _self_assignments(init):
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                callee = value.func.id
                if callee.startswith(ASYNC_PREFIX) and not target.startswith("_"):
                    cls.resources[target] = callee
                    pending.append((home, callee, False))
        cls.members = members_of(cls)
    return list(found.values())


def _method(node: ast.ClassDef, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for item in node.body:
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
            return item
    return None


def _self_assignments(
    init: ast.FunctionDef | ast.AsyncFunctionDef | None,
) -> Iterator[tuple[str, ast.expr, ast.expr | None]]:
    """``self.<name> = value`` in ``__init__``: (name, value, annotation)."""
    if init is None:
        return
    for node in ast.walk(init):
        targets: list[ast.expr] = []
        annotation: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value, annotation = [node.target], node.value, node.annotation
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
                and value is not None
            ):
                yield target.attr, value, annotation


def _is_overload(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(ast.unparse(d) in ("overload", "typing.overload") for d in func.decorator_list)


def _is_property(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(ast.unparse(d) == "property" for d in func.decorator_list)


def is_async_generator(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if not isinstance(func, ast.AsyncFunctionDef):
        return False
    pending: list[ast.AST] = list(func.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue  # a nested def's yield is not ours
        pending.extend(ast.iter_child_nodes(node))
    return False


def _returns_async_iterator(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    if func.returns is None:
        return False
    head = func.returns.value if isinstance(func.returns, ast.Subscript) else func.returns
    name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
    return name in ASYNC_ITERATOR_TYPES


def members_of(cls: SyncClass) -> list[Member]:
    """What the sync class mirrors: the async class's own members in source order, then
    those its base classes and mixins add (left to right, each name once, as Python's MRO
    finds them for the single-inheritance chains and mixins we use)."""
    members: list[Member] = []
    if cls.is_root:
        members.append(Member("init", "__init__", _method(cls.node, "__init__"), home=cls.module))
    seen: set[str] = set()
    for home, node in class_chain(cls.module, cls.node):
        members.extend(_own_members(cls, home, node, seen))
    members.extend(_attribute_properties(cls))
    return members


# Bases that add nothing to mirror.
IGNORED_BASES = frozenset({"object", "Protocol", "Generic", "ABC"})


def class_chain(module: Module, node: ast.ClassDef) -> list[tuple[Module, ast.ClassDef]]:
    """The class and every base class of ours it inherits from, class first, depth first."""
    chain: list[tuple[Module, ast.ClassDef]] = [(module, node)]
    for base in node.bases:
        head = base.value if isinstance(base, ast.Subscript) else base
        name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
        if name in IGNORED_BASES:
            continue
        if not isinstance(head, ast.Name):
            raise GenerationError(f"{node.name}: base {ast.unparse(base)} cannot be followed")
        base_home, base_node = resolve_class(module, name)
        for found in class_chain(base_home, base_node):
            if all(found[1] is not known for _, known in chain):
                chain.append(found)
    return chain


def _own_members(cls: SyncClass, home: Module, node: ast.ClassDef, seen: set[str]) -> list[Member]:
    members: list[Member] = []
    overloads: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    properties: set[str] = set()
    where = f"{cls.async_name}.{{}}" if node is cls.node else f"{node.name}.{{}}"
    for item in node.body:
        # Only defs directly in the class body: stubs under ``if TYPE_CHECKING:`` in a
        # mixin declare what it needs of the class that uses it; they are not members.
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        name = item.name
        if name in seen and name not in properties:
            continue  # overridden by a class earlier in the chain
        doc = ast.get_docstring(item, clean=False)
        if name == "__repr__":
            members.append(Member("repr", name, item, home=home))
            continue
        if name in ("__aenter__", "__aexit__"):
            kind = "enter" if name == "__aenter__" else "exit"
            members.append(Member(kind, name, item, doc, home=home))
            continue
        if name.startswith("_"):
            if name.startswith("__a") and isinstance(item, ast.AsyncFunctionDef):
                raise GenerationError(where.format(name) + ": no sync counterpart known")
            continue
        if _is_overload(item):
            overloads.setdefault(name, []).append(item)
            continue
        if _is_setter(item):
            if name not in properties:
                raise GenerationError(where.format(name) + ": a setter needs its property first")
            members.append(Member("setter", name, item, home=home))
            continue
        extra = [d for d in item.decorator_list if ast.unparse(d) != "property"]
        if extra:
            raise GenerationError(
                where.format(name) + f": decorator {ast.unparse(extra[0])} is not mirrored"
            )
        seen.add(name)
        if _is_property(item):
            if isinstance(item, ast.AsyncFunctionDef) or item.returns is None:
                raise GenerationError(where.format(name) + ": properties need a return type")
            properties.add(name)
            members.append(Member("property", name, item, doc, Expr(item.returns, home), home=home))
            continue
        if name == "aclose":
            kind = "close"
        elif is_async_generator(item) or _returns_async_iterator(item):
            kind = "generator"
        elif isinstance(item, ast.AsyncFunctionDef):
            kind = "method"
        else:
            kind = "delegate"
        members.append(Member(kind, name, item, doc, overloads=overloads.pop(name, []), home=home))
    if overloads:
        raise GenerationError(
            where.format("") + f" overloads without implementation: {sorted(overloads)}"
        )
    return members


def _is_setter(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(ast.unparse(d) == f"{func.name}.setter" for d in func.decorator_list)


def _attribute_properties(cls: SyncClass) -> list[Member]:
    """Public instance attributes set in ``__init__`` become read-only properties."""
    init = _method(cls.node, "__init__")
    if init is None:
        return []
    params = {a.arg: a.annotation for a in (*init.args.args, *init.args.kwonlyargs)}
    seen: set[str] = set()
    out: list[Member] = []
    for name, value, annotation in _self_assignments(init):
        if name.startswith("_") or name in cls.resources or name in seen:
            continue
        seen.add(name)
        expr = _attribute_type(cls.module, value, annotation, params)
        if expr is None:
            raise GenerationError(
                f"{cls.async_name}.{name}: cannot tell its type; annotate it in __init__ "
                f"(self.{name}: T = ...)"
            )
        doc = f"The async client's ``{name}``."
        out.append(Member("property", name, None, doc, expr))
    return out


def _attribute_type(
    module: Module,
    value: ast.expr,
    annotation: ast.expr | None,
    params: dict[str, ast.expr | None],
) -> Expr | None:
    if annotation is not None:
        return Expr(annotation, module)
    if isinstance(value, ast.Name) and params.get(value.id) is not None:
        found = params[value.id]
        assert found is not None
        return Expr(found, module)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        target = resolve_function(module, value.func.id)
        if target is not None and target[1].returns is not None:
            return Expr(target[1].returns, target[0])
    return None
