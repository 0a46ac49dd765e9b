"""Writing the pieces of the facade: expressions with sync names (and the imports they need),
docstrings in sync words, signatures and call arguments."""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import re

from .model import RETURN_TYPE_RENAMES, Expr, SyncClass
from .reading import GenerationError, Module

__all__ = ["Writer", "call_arguments", "rename_text"]


class Writer:
    """Accumulates the generated text and the imports its expressions need."""

    def __init__(self, classes: list[SyncClass]) -> None:
        self.classes = classes
        self.class_renames = {c.async_name: c.name for c in classes}
        self.local_names = set(self.class_renames.values())
        self.imports: dict[str, bool] = {}  # statement -> TYPE_CHECKING only

    # expressions

    def expr(self, expr: Expr, *, returns: bool = False, runtime: bool = False) -> str:
        """Emit ``expr`` with sync names, recording the imports it needs."""
        source = expr.node if runtime else _unquote(expr.node)  # runtime: a default value
        node = _Renamer(self.class_renames, returns).visit(copy.deepcopy(source))
        for name in _root_names(node):
            self._need(name, expr.home, runtime=runtime)
        return ast.unparse(node)

    def _need(self, name: str, home: Module, *, runtime: bool) -> None:
        if name in self.local_names:
            return
        if name in RETURN_TYPE_RENAMES.values() and name not in home.imports:
            self._add(f"from collections.abc import {name}", runtime=True)
            return
        if name in home.imports:
            statement, guarded = home.imports[name]
            if guarded and runtime:
                raise GenerationError(f"{name} is imported under TYPE_CHECKING but used at runtime")
            self._add(statement, runtime=not guarded)
            return
        if name in home.defined:
            self._add(f"from {home.name} import {name}", runtime=True)
            return
        if hasattr(builtins, name):
            return
        raise GenerationError(f"cannot tell where {name!r} (used in {home.name}) comes from")

    def _add(self, statement: str, *, runtime: bool) -> None:
        if runtime:
            self.imports[statement] = False
        else:
            self.imports.setdefault(statement, True)

    def doc(self, text: str | None, indent: str, *, suffix: str = "") -> str:
        """A docstring in sync words, re-indented for ``indent``."""
        if not text:
            return ""
        lines = (inspect.cleandoc(self.rename_text(text)) + suffix).splitlines()
        body = "\n".join(lines[:1] + [indent + line if line else "" for line in lines[1:]])
        end = f"\n{indent}" if len(lines) > 1 else ""
        return f'{indent}"""{_escape_doc(body)}{end}"""\n'

    def rename_text(self, text: str) -> str:
        """Sync words for async ones in prose: class names, ``async with``, ``aclose``."""
        return rename_text(text, self.class_renames)

    # signatures

    def signature(
        self,
        func: ast.FunctionDef | ast.AsyncFunctionDef,
        home: Module,
        *,
        name: str | None = None,
        returns: str | None = None,
    ) -> str:
        args = func.args
        parts: list[str] = []
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults.extend(args.defaults)
        for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
            if index == 0 and arg.arg == "self":
                parts.append("self")  # a mixin may annotate self with what it needs
                continue
            parts.append(self._param(arg, default, home))
            if args.posonlyargs and index == len(args.posonlyargs) - 1:
                parts.append("/")
        if args.vararg is not None:
            parts.append("*" + self._param(args.vararg, None, home))
        elif args.kwonlyargs:
            parts.append("*")
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            parts.append(self._param(arg, kw_default, home))
        if args.kwarg is not None:
            parts.append("**" + self._param(args.kwarg, None, home))
        if returns is None:
            returns = (
                self.expr(Expr(func.returns, home), returns=True)
                if func.returns is not None
                else None
            )
        tail = f" -> {returns}" if returns is not None else ""
        return f"def {name or func.name}({', '.join(parts)}){tail}:"

    def _param(self, arg: ast.arg, default: ast.expr | None, home: Module) -> str:
        text = arg.arg
        if arg.annotation is not None:
            text += ": " + self.expr(Expr(arg.annotation, home))
        if default is not None:
            sep = " = " if arg.annotation is not None else "="
            text += sep + self.expr(Expr(default, home), runtime=True)
        return text


def rename_text(text: str, class_renames: dict[str, str]) -> str:
    """Sync words for async ones in prose: class names, ``async with``, ``aclose``."""
    for old, new in class_renames.items():
        text = re.sub(rf"\b{old}\b", new, text)
    text = re.sub(r"\basync (with|for)\b", r"\1", text)
    text = re.sub(r"\baclos(e|ing)\b", r"clos\1", text)
    # "Async client of ..." → "Client of ..."
    return re.sub(r"\bAsync ([a-z])", lambda m: m.group(1).upper(), text)


def _escape_doc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def call_arguments(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    args = func.args
    parts = [a.arg for a in [*args.posonlyargs, *args.args][1:]]  # not self
    if args.vararg is not None:
        parts.append("*" + args.vararg.arg)
    parts.extend(f"{a.arg}={a.arg}" for a in args.kwonlyargs)
    if args.kwarg is not None:
        parts.append("**" + args.kwarg.arg)
    return ", ".join(parts)


def _unquote(node: ast.expr) -> ast.expr:
    """Parse string annotations (forward references) so that their names are seen."""

    class Unquote(ast.NodeTransformer):
        def visit_Subscript(self, sub: ast.Subscript) -> ast.AST:
            head = sub.value
            if (head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")) in (
                "Literal",
                "Annotated",
            ):
                return sub  # strings there are values, not forward references
            self.generic_visit(sub)
            return sub

        def visit_Constant(self, const: ast.Constant) -> ast.AST:
            if isinstance(const.value, str):
                try:
                    return ast.parse(const.value, mode="eval").body
                except SyntaxError:
                    return const
            return const

    result = Unquote().visit(ast.parse(ast.unparse(node), mode="eval").body)
    assert isinstance(result, ast.expr)
    return result


class _Renamer(ast.NodeTransformer):
    def __init__(self, class_renames: dict[str, str], returns: bool) -> None:
        self.renames = dict(class_renames)
        if returns:
            self.renames.update(RETURN_TYPE_RENAMES)
        self.returns = returns

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.renames:
            return ast.copy_location(ast.Name(self.renames[node.id], node.ctx), node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        # typing.AsyncIterator / collections.abc.AsyncIterator → the bare sync name
        if self.returns and node.attr in RETURN_TYPE_RENAMES:
            return ast.copy_location(ast.Name(RETURN_TYPE_RENAMES[node.attr], node.ctx), node)
        self.generic_visit(node)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        head = node.value
        head_name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
        self.generic_visit(node)
        if self.returns and head_name in RETURN_TYPE_RENAMES:
            # AsyncIterator[Y] → Generator[Y, None, None]; AsyncGenerator[Y, S] →
            # Generator[Y, S, None]
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if head_name != "AsyncGenerator":
                elts = [*elts, ast.Constant(None)]
            node.slice = ast.Tuple([*elts, ast.Constant(None)], ast.Load())
        return node


def _root_names(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
    return names
