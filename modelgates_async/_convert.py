"""The cattrs converter that builds the records of ``models.py`` from decoded JSON.

- :func:`structure` / :func:`unstructure`: the one private converter (strict scalars).
- :func:`structure_created_key`: the record of a 2xx create, never losing its secret
  (:func:`created_key_in_text`: … nor from a 201 whose body is no JSON object).

Unknown fields in a response are ignored (the API may grow); a missing required field or a
value of the wrong type raises :class:`~modelgates_async.errors.APIResponseValidationError`
naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from modelgates_async._record_fn import record_fn_factory
from modelgates_async._redact import Redactor, secret_shaped
from modelgates_async.errors import APIResponseValidationError, CreatedKeyValidationError
from modelgates_async.models import CreatedKey, LimitReset, parse_datetime

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "created_key_in_text",
    "structure",
    "structure_created_key",
    "structure_data",
    "unstructure",
]

T = TypeVar("T")


# Strict scalar hooks: cattrs' defaults call bool()/str()/float(), which would turn the
# string "false" into True. A wrong type must be reported, not coerced.


def _structure_bool(value: Any, _: type) -> bool:
    if value is True or value is False:
        return bool(value)
    raise TypeError(f"expected a boolean, got {type(value).__name__}")


def _structure_str(value: Any, _: type) -> str:
    if type(value) is str:
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _structure_float(value: Any, _: type) -> float:
    kind = type(value)
    if kind is float or kind is int:
        return float(value)
    raise TypeError(f"expected a number, got {kind.__name__}")


def _structure_int(value: Any, _: type) -> int:
    if type(value) is int:
        return int(value)
    if type(value) is float and value.is_integer() and math.isfinite(value):
        return int(value)
    raise TypeError(f"expected an integer, got {type(value).__name__}")


def _structure_datetime(value: Any, _: type) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return parse_datetime(value)


# A dict read, where calling the enum (LimitReset(value)) costs ~0.3 µs.
_RESETS: dict[str, LimitReset] = {reset.value: reset for reset in LimitReset}


def _structure_limit_reset(value: Any, _: type) -> LimitReset:
    if type(value) is not str:
        raise TypeError(f"expected one of daily, weekly, monthly, got {type(value).__name__}")
    return _RESETS.get(value) or LimitReset(value)  # the call raises for an unknown value


# LimitReset is a str subclass: without its own hook the str hook would match it.
_SCALAR_HOOKS: dict[type, Callable[[Any, type], Any]] = {
    bool: _structure_bool,
    str: _structure_str,
    float: _structure_float,
    int: _structure_int,
    datetime: _structure_datetime,
    LimitReset: _structure_limit_reset,
}


def _make_converter(*, detailed: bool) -> cattrs.Converter:
    import cattrs

    converter = cattrs.Converter(detailed_validation=detailed, forbid_extra_keys=False)
    for kind, hook in _SCALAR_HOOKS.items():
        converter.register_structure_hook(kind, hook)
    if not detailed:
        # Records built with the same hooks, each called only for a value that is not
        # already of its field's plain type (see _record_fn); cattrs' own explain failures.
        converter.register_structure_hook_factory(
            attrs.has, record_fn_factory(_SCALAR_HOOKS, converter.structure)
        )
    converter.register_unstructure_hook(LimitReset, lambda reset: reset.value)
    converter.register_unstructure_hook(datetime, lambda dt: dt.isoformat())
    return converter


# Two configurations of the same rules: the fast one builds records on the hot path; the
# detailed one only runs after a failure, to name every offending field. Both are made on
# first use: importing cattrs and building converters is a third of what
# ``import modelgates_async`` costs beyond aiohttp (see benchmarks/).
_converters: dict[bool, cattrs.Converter] = {}


def _converter(*, detailed: bool) -> cattrs.Converter:
    converter = _converters.get(detailed)
    if converter is None:
        converter = _converters[detailed] = _make_converter(detailed=detailed)
    return converter


def _describe_failure(data: Any, cls: type[Any], path: str) -> tuple[str, ...]:
    import cattrs

    try:
        _converter(detailed=True).structure(data, cls)
    except Exception as exc:
        if isinstance(exc, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
            return tuple(_rebase(m, path) for m in cattrs.transform_error(exc, path=path))
        return (f"{path}: {exc}",)
    return (f"{path}: invalid value",)


def _rebase(message: str, path: str) -> str:
    # transform_error says "... @ $.data.limit"; put the field first, where people look.
    text, _, where = message.rpartition(" @ ")
    return f"{where}: {text}" if where else message


# The fast configuration's hook of each record class, looked up once (converter.structure
# looks it up on every call).
_fast_hooks: dict[type, Callable[[Any, type], Any]] = {}


def _fast_hook(cls: type) -> Callable[[Any, type], Any]:
    converter = _converter(detailed=False)
    get_hook = getattr(converter, "get_structure_hook", None)  # cattrs 24.1 and later
    hook = _fast_hooks[cls] = get_hook(cls) if get_hook is not None else converter.structure
    return hook


def structure(data: Any, cls: type[T], *, status: int = 200, path: str = "$") -> T:
    """Build a record of ``cls`` from decoded JSON, or raise APIResponseValidationError."""
    try:
        return (_fast_hooks.get(cls) or _fast_hook(cls))(data, cls)  # type: ignore[no-any-return]
    except Exception:
        pass
    # Raised outside the except block, unchained: a conversion error may quote the value it
    # refused (a date field echoing a secret); ``errors`` names the fields instead.
    errors = _describe_failure(data, cls, path)
    raise APIResponseValidationError(
        f"The response does not match the {cls.__name__} schema: " + "; ".join(errors),
        status=status,
        errors=errors,
    )


def structure_data(body: Any, cls: type[T]) -> T:
    """The record of ``cls`` in a ``{"data": ...}`` body, or APIResponseValidationError.

    The record function is called here, not through :func:`structure`: a get is this call
    and the generated function, nothing between (each frame on a request's path costs
    several times its own work there, in cache misses). A failure is explained after.
    """
    try:
        return (_fast_hooks.get(cls) or _fast_hook(cls))(body["data"], cls)  # type: ignore[no-any-return]
    except Exception:
        pass
    if not isinstance(body, dict) or "data" not in body:
        raise APIResponseValidationError(
            "The response does not match the schema: $.data: required field missing",
            status=200,
            body=body,
            errors=("$.data: required field missing",),
        )
    return structure(body["data"], cls, path="$.data")  # raises, naming the fields


def created_key_in_text(
    text: str, known: Redactor, *, method: str, path: str, status: int
) -> CreatedKeyValidationError | None:
    """The error of a create answered 201 with a body that is not a key record, when that
    body holds exactly one ``sk-…`` value (maybe repeated) that is not a secret ``known``
    already (the client's own key): it is the new key's secret, kept in ``.key``."""
    found = {value for value in secret_shaped(text) if not known.knows(value)}
    if len(found) != 1:
        return None
    return CreatedKeyValidationError(
        f"{method} {path} answered {status} with a body that is not a key record. The key "
        "WAS created: the one secret in the answer is in this error's .key; store it.",
        key=found.pop(),
        key_hash=None,
        status=status,
    )


def structure_created_key(body: Any, *, status: int = 201) -> CreatedKey:
    """Build the :class:`CreatedKey` of a 2xx create, never losing its secret: when the
    record does not validate but the body holds a secret, raise
    :class:`CreatedKeyValidationError` carrying it (``.key``, masked in str/repr)."""
    try:
        return structure(body, CreatedKey, status=status)
    except APIResponseValidationError as exc:
        secret = body.get("key") if isinstance(body, dict) else None
        if type(secret) is not str or not secret:
            raise
        data = body.get("data")
        key_hash = data.get("hash") if isinstance(data, dict) else None
        raise CreatedKeyValidationError(
            f"{exc.message}. The key WAS created"
            + (f" (hash {key_hash})" if type(key_hash) is str else "")
            + ": its secret is in this error's .key; store it.",
            key=secret,
            key_hash=key_hash if type(key_hash) is str else None,
            status=status,
            errors=exc.errors,
        ) from None


def unstructure(record: object) -> Any:
    """Turn a record back into JSON-ready data (datetimes as ISO 8601 strings)."""
    return _converter(detailed=False).unstructure(record)
