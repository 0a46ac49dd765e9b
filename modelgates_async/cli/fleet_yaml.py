"""The YAML form of a fleet FILE: a list of keys, or a mapping with ``defaults`` and ``keys``.

PyYAML's C parser composes the document into nodes, which keep their line numbers; the
entries are then built from the nodes here rather than by ``construct_document``, whose
pure-Python walk costs more than the parse for a file of ten thousand keys. Plain strings
are taken as they are; every other scalar (numbers, booleans, null, dates) goes through the
safe constructor, so values mean what ``yaml.safe_load`` would make of them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["yaml_entries"]

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"


def _mapping(loader: Any, node: Any) -> dict[str, Any] | None:
    """A mapping node of scalar keys as a dict (None: not such a mapping)."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    if any(key.tag == _MERGE or not isinstance(key, yaml.ScalarNode) for key, _ in node.value):
        value = loader.construct_object(node, deep=True)  # merge keys and the like
        return value if isinstance(value, dict) else None
    return {
        str(key.value): value.value
        if isinstance(value, yaml.ScalarNode) and value.tag == _STR
        else loader.construct_object(value, deep=True)
        for key, value in node.value
    }


def _syntax(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark is not None else "line 1"
    return f"{where}: YAML syntax error: {getattr(exc, 'problem', None) or exc}"


def yaml_entries(text: str, problems: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """``(line, fields)`` of each entry, defaults merged in; problems appended as found."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        return _entries(loader, problems)
    except yaml.YAMLError as exc:
        problems.append(_syntax(exc))
        return []
    finally:
        loader.dispose()


def _entries(loader: Any, problems: list[str]) -> list[tuple[int, dict[str, Any]]]:
    import yaml

    node = loader.get_single_node()
    if node is None:
        return []
    defaults: dict[str, Any] = {}
    items = node
    if isinstance(node, yaml.MappingNode):
        parts = {str(key.value): value for key, value in node.value}
        extra = sorted(name for name in parts if name not in ("defaults", "keys"))
        if extra or "keys" not in parts:
            problems.append(
                "line 1: a YAML mapping must have a 'keys' list (and may have 'defaults')"
                + (f"; unknown: {', '.join(extra)}" if extra else "")
            )
            return []
        if "defaults" in parts:
            given = parts["defaults"]
            null = isinstance(given, yaml.ScalarNode) and given.value in ("", "~", "null")
            found = {} if null else _mapping(loader, given)
            if found is None:
                problems.append(
                    f"line {given.start_mark.line + 1}: 'defaults' must be a mapping of fields"
                )
                return []
            if "name" in found:
                problems.append("line 1: 'defaults' cannot give a name (names identify keys)")
                return []
            defaults = found
        items = parts["keys"]
    if isinstance(items, yaml.ScalarNode) and items.value in ("", "~", "null"):
        return []
    if not isinstance(items, yaml.SequenceNode):
        problems.append(
            f"line {items.start_mark.line + 1}: expected a list of keys, or a mapping with "
            "'defaults' and 'keys'"
        )
        return []
    entries: list[tuple[int, dict[str, Any]]] = []
    for item in items.value:
        line = item.start_mark.line + 1
        try:
            fields = _mapping(loader, item)
        except yaml.YAMLError as exc:  # e.g. a date that does not exist
            problems.append(f"line {line}: {getattr(exc, 'problem', None) or exc}")
            continue
        if fields is None:
            problems.append(f"line {line}: an entry must be a mapping of fields")
            continue
        entries.append((line, {**defaults, **fields}))
    return entries
