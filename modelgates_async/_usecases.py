"""The pieces the seeds' use cases share: rotation's error and the spend that counts.

``AsyncAPIKeys.rotate`` / ``over_limit`` / ``disable_over_limit`` are built on these.
"""

from __future__ import annotations

from typing import Literal

from modelgates_async.errors import ModelGatesError
from modelgates_async.models import APIKey, CreatedKey, LimitReset

__all__ = ["RETIRE_MODES", "RetireMode", "RotationError", "is_over_limit", "usage_in_limit_window"]

RetireMode = Literal["disable", "delete"]
RETIRE_MODES: tuple[RetireMode, ...] = ("disable", "delete")


class RotationError(ModelGatesError):
    """A rotation stopped half-way; the old key still works.

    ``new_key`` is the replacement when it was created but the old key could not be
    retired: its secret (``new_key.key``) is shown nowhere else, so keep it. ``new_key`` is
    None when the replacement could not be created. ``old_hash`` names the old key,
    ``stage`` says which step failed (``"create"`` or ``"retire"``); ``__cause__`` is the
    error of that step. The message never contains a secret.
    """

    def __init__(
        self, message: str, *, old_hash: str, stage: str, new_key: CreatedKey | None = None
    ) -> None:
        super().__init__(message)
        self.old_hash = old_hash
        self.stage = stage
        self.new_key = new_key


_WINDOWS = {
    LimitReset.DAILY: ("usage_daily", "byok_usage_daily"),
    LimitReset.WEEKLY: ("usage_weekly", "byok_usage_weekly"),
    LimitReset.MONTHLY: ("usage_monthly", "byok_usage_monthly"),
    None: ("usage", "byok_usage"),
}


def usage_in_limit_window(key: APIKey) -> float:
    """The spend (USD) that counts against ``key.limit`` now.

    That is the usage of the current reset window — ``usage_daily``/``weekly``/``monthly``
    as ``limit_reset`` says, all-time ``usage`` when the limit never resets — plus the BYOK
    usage of the same window when ``include_byok_in_limit`` is set.
    """
    usage_field, byok_field = _WINDOWS[key.limit_reset]
    spend: float = getattr(key, usage_field)
    if key.include_byok_in_limit:
        spend += getattr(key, byok_field)
    return spend


def is_over_limit(key: APIKey, threshold: float = 1.0) -> bool:
    """Whether ``key`` has a limit and has spent at least ``threshold`` × that limit."""
    return key.limit is not None and usage_in_limit_window(key) >= threshold * key.limit
