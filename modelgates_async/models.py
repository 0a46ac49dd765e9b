"""Records returned by the API, the rules of a record, and the cattrs converter that builds them.

- :class:`APIKey`, :class:`CreatedKey`, :class:`CurrentKey` and their parts; :class:`LimitReset`
  and :data:`RetireMode`, the enumerations the endpoints take.
- The rules of a key record: :meth:`APIKey.usage_in_limit_window` (the spend that counts
  against its limit now) and :meth:`APIKey.is_over_limit`.
- :func:`structure` / :func:`unstructure`: the one private converter (strict scalars).

Records are frozen attrs classes with slots. Unknown fields in a response are ignored (the
API may grow); a missing required field or a value of the wrong type raises
:class:`~modelgates_async.errors.APIResponseValidationError` naming the field.
"""

from __future__ import annotations

import enum
import math
import re
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs

from modelgates_async._record_fn import record_fn_factory
from modelgates_async.errors import APIResponseValidationError, CreatedKeyValidationError

if TYPE_CHECKING:
    import cattrs

__all__ = [
    "APIKey",
    "CreatedKey",
    "CurrentKey",
    "FreeModelDailyRequests",
    "KeyBudget",
    "LimitReset",
    "RateLimitInfo",
    "RetireMode",
    "mask_secret",
    "usage_in_limit_window",
]

T = TypeVar("T")
_FRACTION = re.compile(r"\.(\d+)")


class LimitReset(str, enum.Enum):
    """How often a key's spending limit resets (midnight UTC; weeks run Monday–Sunday)."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"

    def __str__(self) -> str:
        return self.value


RetireMode = Literal["disable", "delete"]
"""What ``rotate()`` does with the old key once its replacement exists."""
RETIRE_MODES: tuple[RetireMode, ...] = ("disable", "delete")


def mask_secret(secret: str) -> str:
    """Mask a key for display as the API's labels do: ``sk-mg-v1-abc...123``.

    Only the scheme prefix and three characters at each end show; anything that is not
    long enough to keep most of it hidden is masked whole.
    """
    if len(secret) < 24:
        return "***"
    prefix_end = secret.rfind("-", 0, 12) + 1  # "sk-mg-v1-" is a scheme, not secret
    return f"{secret[: prefix_end + 3]}...{secret[-3:]}"


@attrs.frozen
class APIKey:
    """An API key record as the management endpoints return it (``/keys``).

    ``limit_remaining`` is ``None`` when the key has no limit. Usage figures are in USD;
    ``*_daily``/``*_weekly``/``*_monthly`` cover the current UTC day, Monday–Sunday week
    and month.
    """

    hash: str
    name: str
    label: str
    disabled: bool
    limit: float | None
    limit_remaining: float | None
    limit_reset: LimitReset | None
    include_byok_in_limit: bool
    usage: float
    usage_daily: float
    usage_weekly: float
    usage_monthly: float
    byok_usage: float
    byok_usage_daily: float
    byok_usage_weekly: float
    byok_usage_monthly: float
    created_at: datetime
    updated_at: datetime | None
    creator_user_id: str | None
    workspace_id: str
    # The seeds do not list these three; a server that omits them still parses.
    expires_at: datetime | None = None
    external_user: str | None = None
    last_used_at: datetime | None = None

    def usage_in_limit_window(self) -> float:
        """The spend (USD) that counts against ``limit`` now.

        That is the usage of the current reset window — ``usage_daily``/``weekly``/``monthly``
        as ``limit_reset`` says, all-time ``usage`` when the limit never resets — plus the BYOK
        usage of the same window when ``include_byok_in_limit`` is set.
        """
        usage_field, byok_field = _WINDOWS[self.limit_reset]
        spend: float = getattr(self, usage_field)
        if self.include_byok_in_limit:
            spend += getattr(self, byok_field)
        return spend

    def is_over_limit(self, threshold: float = 1.0) -> bool:
        """Whether the key has a limit and has spent at least ``threshold`` × that limit."""
        return self.limit is not None and self.usage_in_limit_window() >= threshold * self.limit


_WINDOWS = {
    LimitReset.DAILY: ("usage_daily", "byok_usage_daily"),
    LimitReset.WEEKLY: ("usage_weekly", "byok_usage_weekly"),
    LimitReset.MONTHLY: ("usage_monthly", "byok_usage_monthly"),
    None: ("usage", "byok_usage"),
}


def usage_in_limit_window(key: APIKey) -> float:
    """The spend (USD) that counts against ``key.limit`` now (see the method of that name)."""
    return key.usage_in_limit_window()


@attrs.frozen
class CreatedKey:
    """A key just created: ``key`` is the secret, shown this once; ``data`` is its record.

    The secret never appears in ``repr()`` or ``str()``; read ``.key`` to hand it on.
    """

    key: str = attrs.field(repr=False)
    data: APIKey

    def __repr__(self) -> str:
        return f"CreatedKey(key={mask_secret(self.key)!r}, data={self.data!r})"

    __str__ = __repr__


@attrs.frozen
class KeyBudget:
    """One spending budget that applies to the current key."""

    budget_id: str
    guardrail_id: str | None
    include_byok: bool
    limit_usd: float
    remaining_usd: float
    reset_interval: str | None
    resets_at: datetime | None
    scope: str
    spend_usd: float


@attrs.frozen
class FreeModelDailyRequests:
    """Daily request allowance on free models."""

    limit: int
    remaining: int
    used: int


@attrs.frozen
class RateLimitInfo:
    """Deprecated request rate limit of the current key (kept for completeness)."""

    interval: str
    note: str
    requests: int


@attrs.frozen
class CurrentKey:
    """The record of the key that made the request (``GET /key``); any key may ask."""

    label: str
    limit: float | None
    limit_remaining: float | None
    limit_reset: LimitReset | None
    include_byok_in_limit: bool
    usage: float
    usage_daily: float
    usage_weekly: float
    usage_monthly: float
    byok_usage: float
    byok_usage_daily: float
    byok_usage_weekly: float
    byok_usage_monthly: float
    is_free_tier: bool
    is_management_key: bool
    creator_user_id: str | None
    organization_id: str | None
    workspace_id: str | None
    allowed_data_regions: tuple[str, ...]
    budgets: tuple[KeyBudget, ...]
    effective_budget: KeyBudget | None
    free_model_daily_requests: FreeModelDailyRequests
    expires_at: datetime | None = None
    # Deprecated upstream; optional so a server that drops them still parses.
    is_provisioning_key: bool | None = None
    rate_limit: RateLimitInfo | None = None


# --- conversion -------------------------------------------------------------------------
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


def _fraction_as_micros(match: re.Match[str]) -> str:
    return "." + match.group(1)[:6].ljust(6, "0")


def parse_datetime(value: str) -> datetime:
    """Parse an ISO 8601 timestamp into an aware datetime (UTC when it names no zone)."""
    if sys.version_info >= (3, 11):
        # From 3.11 on, fromisoformat takes "Z" and fractions of any length itself, so most
        # timestamps need no rewriting; what it refuses (a lowercase "z") goes the long way.
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return _parse_rewritten(value)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)
    return _parse_rewritten(value)


def _parse_rewritten(value: str) -> datetime:
    if value.endswith(("Z", "z")):
        # Python 3.10's fromisoformat does not accept "Z".
        value = value[:-1] + "+00:00"
    if sys.version_info < (3, 11):
        # ... nor fractions of other than 3 or 6 digits ("…:27.5+00:00").
        value = _FRACTION.sub(_fraction_as_micros, value, count=1)
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _structure_datetime(value: Any, _: type) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return parse_datetime(value)


def _structure_limit_reset(value: Any, _: type) -> LimitReset:
    if type(value) is not str:
        raise TypeError(f"expected one of daily, weekly, monthly, got {type(value).__name__}")
    return LimitReset(value)


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
