"""Structure functions for attrs records, generated for the fast configuration of the converter.

cattrs' generated function calls a hook for every field (two calls for ``X | None``): at the
23 fields of an ``APIKey`` that is most of what building one costs. These functions test a
field of a plain type (``str``, ``float``, ``int``, ``bool``, or one of those ``| None``)
inline: a value of exactly that type is what its hook returns unchanged, so it is kept as it
is; any other value goes to the hook, which converts it (an ``int`` where a ``float`` is
expected) or raises. Every other field calls its hook, as cattrs' function does. A missing
required field raises ``KeyError``; fields the record does not know are never read.

The record itself is filled without its ``__init__`` when the class allows it (see
:func:`slot_twin`): a frozen attrs ``__init__`` stores each field through
``object.__setattr__``, about 55 ns a field; plain stores into a twin class of the same
slots, whose instance then becomes the record by ``__class__`` assignment, cost a quarter.

The detailed configuration (cattrs' own functions, the same hooks) explains a failure, so
both must accept exactly the same input; ``tests/unit/test_record_fn.py`` pins that.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["Hook", "make_record_fn", "record_fn_factory", "slot_twin"]

Hook = Callable[[Any, Any], Any]
_PLAIN = (str, float, int, bool)
_UNIONS = (typing.Union, types.UnionType)
_MISSING = object()


def optional_of(kind: Any) -> Any:
    """``X`` for ``X | None`` (or ``Optional[X]``), else None."""
    args: tuple[Any, ...] = getattr(kind, "__args__", ())
    if len(args) == 2 and type(None) in args and typing.get_origin(kind) in _UNIONS:
        first, second = args
        return first if second is type(None) else second
    return None


def make_record_fn(cls: type, hook_for: Callable[[Any], Hook]) -> Hook:
    """The structure function of the attrs class ``cls``: ``fn(mapping, cls) -> record``.

    ``hook_for(type)`` gives the hook of a field's type (of ``X`` for ``X | None``).
    """
    attrs.resolve_types(cls)
    env: dict[str, Any] = {"__cl": cls, "__missing": _MISSING}
    lines = ["def structure(o, _=None):"]
    values: list[str] = []
    fields = attrs.fields(cls)
    for index, field in enumerate(fields):
        if not field.init or field.kw_only:
            raise TypeError(f"{cls.__name__}.{field.name}: only plain init fields are supported")
        inner = optional_of(field.type)
        kind = field.type if inner is None else inner
        hook, kind_name = f"h{index}", f"t{index}"
        env[hook], env[kind_name] = hook_for(kind), kind
        value = f"v{index}"
        checks = []
        if kind in _PLAIN:
            exact = f"type({value}) is not {kind_name}"
            test = exact if inner is None else f"{value} is not None and {exact}"
            checks = [f"if {test}:", f"  {value} = {hook}({value}, {kind_name})"]
        elif inner is None:
            checks = [f"{value} = {hook}({value}, {kind_name})"]
        else:
            checks = [f"if {value} is not None:", f"  {value} = {hook}({value}, {kind_name})"]
        if field.default is attrs.NOTHING:
            lines.append(f"  {value} = o[{field.name!r}]")
            lines.extend(f"  {check}" for check in checks)
        else:
            # Passed by position, default included: no dict of the optional fields, no **.
            lines.append(f"  {value} = o.get({field.name!r}, __missing)")
            lines.append(f"  if {value} is __missing:")
            lines.append(f"    {value} = {_default_of(field, index, env)}")
            lines.append("  else:")
            lines.extend(f"    {check}" for check in checks)
        values.append(value)
    twin = slot_twin(cls)
    if twin is None:
        lines.append(f"  return __cl({', '.join(values)})")
    else:
        # Every value is checked by now: the record is made only when it is whole.
        env["__new"], env["__twin"] = object.__new__, twin
        lines.append("  r = __new(__twin)")
        lines.extend(
            f"  r.{field.name} = {value}" for field, value in zip(fields, values, strict=True)
        )
        lines.append("  r.__class__ = __cl")
        lines.append("  return r")
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<record structure {cls.__qualname__}>", "exec"), env)
    function: Hook = env["structure"]
    return function


def _default_of(field: attrs.Attribute[Any], index: int, env: dict[str, Any]) -> str:
    """The expression of ``field``'s default in the generated function (names go in ``env``)."""
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:
            raise TypeError(f"{field.name}: a default that takes self is not supported")
        env[f"f{index}"] = default.factory
        return f"f{index}()"
    env[f"d{index}"] = default
    return f"d{index}"


def record_fn_factory(hooks: Mapping[Any, Hook], fallback: Hook) -> Callable[[type], Hook]:
    """A cattrs hook factory for attrs classes: the structure function of each, with
    ``hooks`` for the field types they name, nested records generated alike, and
    ``fallback(value, type)`` (the converter's ``structure``) for any other type."""

    def hook_for(kind: Any) -> Hook:
        hook = hooks.get(kind)
        if hook is not None:
            return hook
        if attrs.has(kind):
            return make_record_fn(kind, hook_for)
        return fallback

    return lambda cls: make_record_fn(cls, hook_for)


def slot_twin(cls: type) -> type | None:
    """A plain class with the slots of the attrs record ``cls``, or None when ``cls`` needs
    its ``__init__``.

    An instance of the twin, its slots filled by plain stores, becomes a ``cls`` (``r.__class__
    = cls``) that ``cls(**fields)`` would equal: CPython allows that assignment only between
    classes of one layout (same base, same slots, no ``__weakref__``), and it is tried here on
    a sample. ``cls`` qualifies when its ``__init__`` would only store the fields: no
    validator, converter or pre/post-init hook, and no slot but the fields (no cached hash).
    """
    slots = cls.__dict__.get("__slots__")
    fields = attrs.fields(cls)
    names = [field.name for field in fields]
    if (
        not isinstance(slots, tuple)
        or cls.__bases__ != (object,)
        or sorted(slots) != sorted(names)
        or any(field.validator is not None or field.converter is not None for field in fields)
        or any(hasattr(cls, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__"))
    ):
        return None
    namespace = {"__slots__": slots, "__module__": cls.__module__}
    twin = type(f"_{cls.__name__}Slots", (object,), namespace)
    sample: Any = object.__new__(twin)
    markers = [object() for _ in names]
    for name, marker in zip(names, markers, strict=True):
        setattr(sample, name, marker)
    try:
        sample.__class__ = cls
    except TypeError:
        return None
    if [getattr(sample, name) for name in names] != markers:  # pragma: no cover - CPython
        return None
    return twin
