"""The seeds' use cases of ``client.api_keys``: rotate, rotate many, find and disable keys over
their limit. Built only on the public endpoints (``resources/_endpoints.py``); AsyncAPIKeys
inherits them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable

from modelgates_async._bulk import (
    DEFAULT_CONCURRENCY,
    BulkResult,
    ProgressCallback,
    check_concurrency,
    requeue_rate_limited,
)
from modelgates_async._retry import RetryConfig
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._validation import check_bool, check_hash, check_retire, check_threshold
from modelgates_async.errors import (
    APIConnectionError,
    APIStatusError,
    CreatedKeyValidationError,
    ModelGatesError,
    RotationError,
)
from modelgates_async.models import APIKey, CreatedKey, RetireMode
from modelgates_async.resources._base import Arguments
from modelgates_async.resources._endpoints import KeyEndpoints

__all__ = ["KeyUseCases"]


class KeyUseCases(KeyEndpoints):
    """``rotate``, ``rotate_many``, ``over_limit``, ``disable_over_limit`` (see AsyncAPIKeys)."""

    __slots__ = ()

    async def rotate(
        self,
        hash: str,
        *,
        retire: RetireMode = "disable",
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> CreatedKey:
        """Replace a key with a new one of the same settings; return the new key.

        The replacement gets the old key's name, limit, limit reset, BYOK setting, expiry,
        creator, workspace and external user (not its external API key: the API never
        returns it). Rotation changes the secret, never the key's state: the replacement of
        a disabled key is disabled too (disabled right after it is made, before anyone has
        its secret), and an expired key's replacement has the same, past, expiry — a key cut
        off for overspending does not come back; enable the replacement yourself if you
        mean to. Only once the replacement exists is the old key retired: disabled
        (``retire="disable"``, the default) or deleted (``"delete"``). If a step fails, the
        old key is unchanged and :class:`RotationError` says which step failed; when the
        new key exists but could not be finished (``stage="disable"``) or the old one could
        not be retired (``stage="retire"``), ``exc.new_key`` holds the new key and its
        secret — keep it. Cancelling the call after the create loses that secret.
        """
        retire = check_retire(retire)
        call_timeout, call_retries = self._options(timeout, retries)
        old = await self.get(hash, timeout=call_timeout, retries=call_retries)
        try:
            new = await self.create(
                old.name,
                limit=old.limit,
                limit_reset=old.limit_reset,
                include_byok_in_limit=old.include_byok_in_limit,
                expires_at=old.expires_at,
                creator_user_id=(NOT_GIVEN if old.creator_user_id is None else old.creator_user_id),
                workspace_id=old.workspace_id,
                external_user=NOT_GIVEN if old.external_user is None else old.external_user,
                timeout=call_timeout,
                retries=call_retries,
            )
        except CreatedKeyValidationError as exc:
            raise RotationError(
                f"Created the replacement {exc.key_hash or '(hash not readable)'} but its "
                f"record did not validate ({'; '.join(exc.errors)}). The old key {old.hash} "
                "was not retired and still works. The new key's secret is in "
                ".__cause__.key and nowhere else: store it.",
                old_hash=old.hash,
                stage="create",
            ) from exc
        except ModelGatesError as exc:
            maybe = (
                " It may have been created all the same (the server failed after receiving "
                f"the request): look for a second key named {old.name!r}."
                if _create_outcome_unknown(exc)
                else ""
            )
            raise RotationError(
                f"Could not create the replacement for key {old.hash}: {exc}. The old key "
                f"{_unchanged(old)}.{maybe}",
                old_hash=old.hash,
                stage="create",
            ) from exc
        if old.disabled:
            new = await self._disable_replacement(old, new, call_timeout, call_retries)
        try:
            if retire == "disable":
                await self.update(
                    old.hash, disabled=True, timeout=call_timeout, retries=call_retries
                )
            else:
                await self.delete(old.hash, timeout=call_timeout, retries=call_retries)
        except ModelGatesError as exc:
            raise RotationError(
                f"Created the replacement {new.data.hash} but could not {retire} the old key "
                f"{old.hash}: {exc}. The old key {_unchanged(old)}. The new key's secret is in "
                f".new_key.key and nowhere else: store it, then {retire} the old key.",
                old_hash=old.hash,
                stage="retire",
                new_key=new,
            ) from exc
        return new

    async def _disable_replacement(
        self, old: APIKey, new: CreatedKey, timeout: float, retries: RetryConfig
    ) -> CreatedKey:
        """Disable the replacement of a disabled key; undo the create if that fails."""
        try:
            record = await self.update(
                new.data.hash, disabled=True, timeout=timeout, retries=retries
            )
        except ModelGatesError as exc:
            try:
                await self.delete(new.data.hash, timeout=timeout, retries=retries)
            except ModelGatesError:
                raise RotationError(
                    f"Created the replacement {new.data.hash} of the disabled key {old.hash} "
                    f"but could neither disable it ({exc}) nor delete it again: it is "
                    "enabled. The old key is unchanged. The new key's secret is in "
                    ".new_key.key and nowhere else: disable or delete that key.",
                    old_hash=old.hash,
                    stage="disable",
                    new_key=new,
                ) from exc
            raise RotationError(
                f"Could not disable the replacement of the disabled key {old.hash}: {exc}. "
                "The replacement was deleted again; the old key is unchanged.",
                old_hash=old.hash,
                stage="create",
            ) from exc
        return CreatedKey(key=new.key, data=record)

    async def rotate_many(
        self,
        hashes: Iterable[str],
        *,
        retire: RetireMode = "disable",
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> BulkResult[CreatedKey]:
        """:meth:`rotate` each key, ``concurrency`` at a time.

        Each key is rotated as :meth:`rotate` says, whatever its state: a disabled key's
        replacement is disabled, an expired key's replacement expired (rotation revives
        nothing). To rotate only live keys, pass the hashes of ``iter()`` (which leaves
        disabled and expired keys out by default).

        A key whose old one could not be retired fails with a :class:`RotationError` whose
        ``new_key`` holds the replacement: look in ``result.errors`` as well as in
        ``result.values`` for new secrets.
        """
        retire = check_retire(retire)

        def prepare(key_hash: object) -> Arguments:
            return (check_hash(key_hash),), {"retire": retire}

        return await self._collect(
            "api_keys.rotate_many",
            self._bulk(
                self.rotate,
                hashes,
                prepare,
                "hashes",
                concurrency,
                on_progress,
                timeout,
                retries,
                requeue=_requeue_rotation,
            ),
        )

    async def over_limit(
        self,
        threshold: float = 1.0,
        *,
        include_disabled: bool = False,
        include_expired: bool = False,
        workspace_id: str | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncGenerator[APIKey, None]:
        """Every key whose spend in its current reset window is ``>= threshold × limit``.

        The spend is ``usage_daily``/``weekly``/``monthly`` as the key's ``limit_reset``
        says (all-time ``usage`` when it never resets), plus the BYOK usage of that window
        when the key has ``include_byok_in_limit``. Keys without a limit never qualify.
        ``threshold=0.8`` finds keys at 80% of their limit. Pages are fetched as you iterate.

        Disabling keys inside the loop is safe: the walk lists disabled keys too and
        leaves them out itself, so a key disabled behind it shifts no page. Expired keys
        are left out unless ``include_expired``: the API refuses them, so they cannot
        spend, and no update can bring them back (there is no ``expires_at`` to change).
        """
        threshold = check_threshold(threshold)
        check_bool(include_disabled, "include_disabled")
        async for key in self.iter(
            True, workspace_id, include_expired, timeout=timeout, retries=retries
        ):
            if (include_disabled or not key.disabled) and key.is_over_limit(threshold):
                yield key

    async def disable_over_limit(
        self,
        threshold: float = 1.0,
        *,
        include_expired: bool = False,
        workspace_id: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> BulkResult[APIKey]:
        """Disable every enabled key :meth:`over_limit` finds; return what happened.

        Each item's ``input`` is the key as found (with its usage), ``value`` the disabled
        record. The keys are all found before the first is disabled. Expired keys are left
        alone unless ``include_expired`` (they cannot spend: disabling them changes
        nothing but their ``updated_at``).
        """
        check_concurrency(concurrency)
        call_timeout, call_retries = self._options(timeout, retries)
        found = [
            key
            async for key in self.over_limit(
                threshold,
                include_expired=include_expired,
                workspace_id=workspace_id,
                timeout=call_timeout,
                retries=call_retries,
            )
        ]

        def prepare(key: APIKey) -> Arguments:
            return (key.hash,), {"disabled": True}

        return await self._collect(
            "api_keys.disable_over_limit",
            self._bulk(
                self.update,
                found,
                prepare,
                "keys",
                concurrency,
                on_progress,
                call_timeout,
                call_retries,
            ),
        )


def _requeue_rotation(retries: RetryConfig) -> Callable[[Exception], bool]:
    rate_limited = requeue_rate_limited(retries)

    def requeue(exc: Exception) -> bool:
        # Again only when nothing happened yet: a 429 on the get or on the create.
        # A failed retire already made a new key; sending it again would make another.
        if isinstance(exc, RotationError):
            cause = exc.__cause__
            return exc.stage == "create" and isinstance(cause, Exception) and rate_limited(cause)
        return rate_limited(exc)

    return requeue


def _unchanged(old: APIKey) -> str:
    return "is unchanged (still disabled)" if old.disabled else "is unchanged and still works"


def _create_outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed create may still have made a key (the server got the request)."""
    if isinstance(exc, APIStatusError):
        return exc.status >= 500
    return isinstance(exc, APIConnectionError) and exc.connected
