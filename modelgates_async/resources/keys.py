"""``client.api_keys``: every key-management operation of the API."""

from __future__ import annotations

import builtins
import math
import os
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from modelgates_async._bulk import (
    DEFAULT_CONCURRENCY,
    BulkItem,
    BulkResult,
    KeySpec,
    KeyUpdate,
    ProgressCallback,
    check_concurrency,
    collect,
    iter_bulk,
    requeue_rate_limited,
    spec_arguments,
    update_arguments,
)
from modelgates_async._resume import journaled_creates
from modelgates_async._retry import RetryConfig
from modelgates_async._transport import Transport
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._usecases import RETIRE_MODES, RetireMode, RotationError, is_over_limit
from modelgates_async._validation import (
    check_bool,
    check_expires_at,
    check_hash,
    check_limit,
    check_limit_reset,
    check_name,
    check_offset,
    check_optional_str,
    check_timeout,
    check_workspace_id,
    query_string,
)
from modelgates_async.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    CreatedKeyValidationError,
    InvalidRequestError,
    ModelGatesError,
)
from modelgates_async.models import (
    APIKey,
    CreatedKey,
    CurrentKey,
    LimitReset,
    structure,
    structure_created_key,
)

__all__ = ["PAGE_SIZE", "AsyncAPIKeys"]

T = TypeVar("T")

PAGE_SIZE = 100
"""Keys per page of ``GET /keys``; a shorter page is the last one."""


class AsyncAPIKeys:
    """API-key management: list, iterate, create, get, update, delete, current key.

    Bulk: ``create_many``, ``update_many``, ``delete_many``, ``get_many`` (and ``*_iter``
    twins that yield as items finish) return a :class:`BulkResult`. Use cases: ``rotate``,
    ``rotate_many``, ``over_limit``, ``disable_over_limit``.

    Every method takes keyword-only ``timeout=`` (seconds per attempt) and ``retries=``
    (a :class:`RetryConfig`) that override the client's for that call.
    """

    __slots__ = ("_retries", "_timeout", "_transport")

    def __init__(self, transport: Transport, *, timeout: float, retries: RetryConfig) -> None:
        self._transport = transport
        self._timeout = timeout
        self._retries = retries

    def _options(
        self, timeout: float | NotGiven, retries: RetryConfig | NotGiven
    ) -> tuple[float, RetryConfig]:
        timeout = self._timeout if isinstance(timeout, NotGiven) else check_timeout(timeout)
        if isinstance(retries, NotGiven):
            retries = self._retries
        elif not isinstance(retries, RetryConfig):
            raise InvalidRequestError(
                f"retries must be a RetryConfig, got {type(retries).__name__}", argument="retries"
            )
        return timeout, retries

    async def list(
        self,
        offset: int = 0,
        include_disabled: bool = False,
        workspace_id: str | None = None,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> builtins.list[APIKey]:
        """One page of keys, most recent first (at most 100), starting at ``offset``.

        Disabled keys are left out unless ``include_disabled``; ``workspace_id`` selects a
        workspace other than the default one.
        """
        params: dict[str, str] = {}
        if check_offset(offset):
            params["offset"] = str(offset)
        if check_bool(include_disabled, "include_disabled"):
            params["include_disabled"] = "true"
        workspace = check_workspace_id(workspace_id)
        if workspace is not None:
            params["workspace_id"] = workspace
        call_timeout, call_retries = self._options(timeout, retries)
        body = await self._transport.request(
            "GET", "/keys", query=query_string(params), timeout=call_timeout, retries=call_retries
        )
        return _data(body, builtins.list[APIKey])

    async def iter(
        self,
        include_disabled: bool = False,
        workspace_id: str | None = None,
        *,
        offset: int = 0,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[APIKey]:
        """Every key, page by page (100 a page, fetched only as you iterate).

        Keys created while iterating shift the pages (newest first); a key seen on the
        previous page is not yielded twice, so only a burst of more than 100 creations
        between two pages can repeat one.
        """
        check_offset(offset)
        previous: set[str] = set()
        while True:
            page = await self.list(
                offset, include_disabled, workspace_id, timeout=timeout, retries=retries
            )
            for key in page:
                if key.hash not in previous:
                    yield key
            if len(page) < PAGE_SIZE:
                return
            offset += len(page)
            previous = {key.hash for key in page}

    async def create(
        self,
        name: str,
        *,
        limit: float | NotGiven | None = NOT_GIVEN,
        limit_reset: LimitReset | str | NotGiven | None = NOT_GIVEN,
        include_byok_in_limit: bool | NotGiven = NOT_GIVEN,
        expires_at: datetime | str | NotGiven | None = NOT_GIVEN,
        creator_user_id: str | NotGiven | None = NOT_GIVEN,
        workspace_id: str | NotGiven | None = NOT_GIVEN,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> CreatedKey:
        """Create a key; the returned ``CreatedKey.key`` is its secret, shown only this once.

        ``limit`` is in USD (None: no limit); ``limit_reset`` is daily, weekly or monthly
        (None: never resets); ``expires_at`` is an aware datetime or a UTC ISO string.
        Not idempotent: retried by default only when the server provably did nothing.
        A 2xx whose record does not validate raises :class:`CreatedKeyValidationError`,
        which keeps the secret of the key that was made in ``.key`` (never in its text).
        """
        body = create_body(
            name,
            limit=limit,
            limit_reset=limit_reset,
            include_byok_in_limit=include_byok_in_limit,
            expires_at=expires_at,
            creator_user_id=creator_user_id,
            workspace_id=workspace_id,
        )
        call_timeout, call_retries = self._options(timeout, retries)
        response = await self._transport.request(
            "POST",
            "/keys",
            body=body,
            timeout=call_timeout,
            retries=call_retries,
            idempotent=False,
        )
        return structure_created_key(response, status=201)

    async def get(
        self,
        hash: str,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> APIKey:
        """The key with this hash."""
        path = "/keys/" + check_hash(hash)
        call_timeout, call_retries = self._options(timeout, retries)
        body = await self._transport.request(
            "GET", path, timeout=call_timeout, retries=call_retries
        )
        return _data(body, APIKey)

    async def update(
        self,
        hash: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        disabled: bool | NotGiven = NOT_GIVEN,
        limit: float | NotGiven | None = NOT_GIVEN,
        limit_reset: LimitReset | str | NotGiven | None = NOT_GIVEN,
        include_byok_in_limit: bool | NotGiven = NOT_GIVEN,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> APIKey:
        """Change the given fields of a key and return the new record.

        Only arguments you pass are sent; ``limit=None`` / ``limit_reset=None`` clear them.
        A call with nothing to change is refused before sending.
        """
        path = "/keys/" + check_hash(hash)
        body = update_body(
            name=name,
            disabled=disabled,
            limit=limit,
            limit_reset=limit_reset,
            include_byok_in_limit=include_byok_in_limit,
        )
        call_timeout, call_retries = self._options(timeout, retries)
        response = await self._transport.request(
            "PATCH", path, body=body, timeout=call_timeout, retries=call_retries
        )
        return _data(response, APIKey)

    async def delete(
        self,
        hash: str,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> bool:
        """Delete a key for good; returns True."""
        path = "/keys/" + check_hash(hash)
        call_timeout, call_retries = self._options(timeout, retries)
        response = await self._transport.request(
            "DELETE", path, timeout=call_timeout, retries=call_retries
        )
        if not isinstance(response, dict) or response.get("deleted") is not True:
            raise APIResponseValidationError(
                "The response does not match the delete schema: $.deleted: expected true",
                status=200,
                body=response,
                errors=("$.deleted: expected true",),
            )
        return True

    async def get_current_key_metadata(
        self,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> CurrentKey:
        """The record of the key this client authenticates with (any key may ask)."""
        call_timeout, call_retries = self._options(timeout, retries)
        body = await self._transport.request(
            "GET", "/key", timeout=call_timeout, retries=call_retries
        )
        return _data(body, CurrentKey)

    # --- bulk ------------------------------------------------------------------------------
    # Each bulk method checks every input with the rules of its single-call twin before
    # anything is sent, then runs that twin at bounded concurrency (one code path per
    # endpoint). Creates are never retried here: the transport's rule for POST holds.

    async def create_many(
        self,
        specs: Iterable[KeySpec | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        journal: str | os.PathLike[str] | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> BulkResult[CreatedKey]:
        """Create a key per spec, ``concurrency`` at a time; never two keys for one spec.

        A spec is a :class:`KeySpec` or a mapping with ``create()``'s keyword names. The
        result holds, in input order, each ``CreatedKey`` (its secret is returned only
        here) or the exception of that spec. ``on_progress(done, total, failed)`` is called
        at the start and after each spec.

        ``journal=PATH`` records each intent before its request and each key and secret
        as it arrives (a 0600 file). Calling again with the same specs and journal
        resumes: done specs come back from the journal without a request, specs in doubt
        are reconciled (orphans deleted) and created once. See README, "When things go
        wrong". Interrupted, the ``CancelledError``/``KeyboardInterrupt`` carries
        ``.partial_result``.
        """
        return await collect(
            self.create_many_iter(
                specs,
                concurrency=concurrency,
                on_progress=on_progress,
                journal=journal,
                timeout=timeout,
                retries=retries,
            )
        )

    async def create_many_iter(
        self,
        specs: Iterable[KeySpec | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        journal: str | os.PathLike[str] | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[BulkItem[CreatedKey]]:
        """:meth:`create_many`, yielding each spec's :class:`BulkItem` as it finishes.

        Items come in completion order; ``item.index`` is the spec's position. Breaking
        out early cancels the creates in flight (use ``contextlib.aclosing``); with a
        ``journal`` they stay in doubt and the next run reconciles them.
        """
        call_timeout, call_retries = self._options(timeout, retries)

        def prepare(spec: object) -> dict[str, Any]:
            arguments = spec_arguments(spec)
            create_body(**arguments)  # the create() rules, before anything is sent
            return arguments

        async def call(arguments: dict[str, Any]) -> CreatedKey:
            return await self.create(**arguments, timeout=call_timeout, retries=call_retries)

        if journal is not None:
            async for item in journaled_creates(
                self,
                specs,
                journal,
                prepare=spec_arguments,
                body_of=lambda arguments: create_body(**arguments),  # checks it too
                concurrency=concurrency,
                on_progress=on_progress,
                requeue=requeue_rate_limited(call_retries),
                timeout=call_timeout,
                retries=call_retries,
            ):
                yield item
            return
        async for item in iter_bulk(
            specs,
            prepare,
            call,
            concurrency=concurrency,
            on_progress=on_progress,
            requeue=requeue_rate_limited(call_retries),
            what="specs",
        ):
            yield item

    async def update_many(
        self,
        changes: Iterable[KeyUpdate | tuple[str, Mapping[str, Any]] | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> BulkResult[APIKey]:
        """Apply each change, ``concurrency`` at a time; the result holds the new records.

        A change is a :class:`KeyUpdate`, a ``(hash, {"disabled": True, ...})`` pair, or a
        mapping with ``hash`` and ``update()``'s keyword names.
        """
        return await collect(
            self.update_many_iter(
                changes,
                concurrency=concurrency,
                on_progress=on_progress,
                timeout=timeout,
                retries=retries,
            )
        )

    async def update_many_iter(
        self,
        changes: Iterable[KeyUpdate | tuple[str, Mapping[str, Any]] | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[BulkItem[APIKey]]:
        """:meth:`update_many`, yielding each change's :class:`BulkItem` as it finishes."""
        call_timeout, call_retries = self._options(timeout, retries)

        def prepare(change: object) -> tuple[str, dict[str, Any]]:
            key_hash, arguments = update_arguments(change)
            check_hash(key_hash)
            update_body(**arguments)
            return key_hash, arguments

        async def call(prepared: tuple[str, dict[str, Any]]) -> APIKey:
            key_hash, arguments = prepared
            return await self.update(
                key_hash, **arguments, timeout=call_timeout, retries=call_retries
            )

        async for item in iter_bulk(
            changes,
            prepare,
            call,
            concurrency=concurrency,
            on_progress=on_progress,
            requeue=requeue_rate_limited(call_retries),
            what="changes",
        ):
            yield item

    async def delete_many(
        self,
        hashes: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> BulkResult[bool]:
        """Delete each key, ``concurrency`` at a time; a key already gone fails alone (404)."""
        return await collect(
            self.delete_many_iter(
                hashes,
                concurrency=concurrency,
                on_progress=on_progress,
                timeout=timeout,
                retries=retries,
            )
        )

    async def delete_many_iter(
        self,
        hashes: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[BulkItem[bool]]:
        """:meth:`delete_many`, yielding each hash's :class:`BulkItem` as it finishes."""
        call_timeout, call_retries = self._options(timeout, retries)

        async def call(key_hash: str) -> bool:
            return await self.delete(key_hash, timeout=call_timeout, retries=call_retries)

        async for item in iter_bulk(
            hashes,
            check_hash,
            call,
            concurrency=concurrency,
            on_progress=on_progress,
            requeue=requeue_rate_limited(call_retries),
            what="hashes",
        ):
            yield item

    async def get_many(
        self,
        hashes: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> BulkResult[APIKey]:
        """Fetch each key, ``concurrency`` at a time; an unknown hash fails alone (404)."""
        return await collect(
            self.get_many_iter(
                hashes,
                concurrency=concurrency,
                on_progress=on_progress,
                timeout=timeout,
                retries=retries,
            )
        )

    async def get_many_iter(
        self,
        hashes: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[BulkItem[APIKey]]:
        """:meth:`get_many`, yielding each hash's :class:`BulkItem` as it finishes."""
        call_timeout, call_retries = self._options(timeout, retries)

        async def call(key_hash: str) -> APIKey:
            return await self.get(key_hash, timeout=call_timeout, retries=call_retries)

        async for item in iter_bulk(
            hashes,
            check_hash,
            call,
            concurrency=concurrency,
            on_progress=on_progress,
            requeue=requeue_rate_limited(call_retries),
            what="hashes",
        ):
            yield item

    # --- the seeds' use cases --------------------------------------------------------------

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
        creator and workspace. Only once it exists is the old key retired: disabled
        (``retire="disable"``, the default) or deleted (``"delete"``). If a step fails, the
        old key still works and :class:`RotationError` says which step failed; when the new
        key was created but the old one could not be retired, ``exc.new_key`` holds the new
        key and its secret — keep it. Cancelling the call after the create loses that secret.
        """
        if retire not in RETIRE_MODES:
            raise InvalidRequestError(
                f"retire must be 'disable' or 'delete', got {retire!r}", argument="retire"
            )
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
                f"Could not create the replacement for key {old.hash}: {exc}. The old key is "
                f"unchanged and still works.{maybe}",
                old_hash=old.hash,
                stage="create",
            ) from exc
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
                f"{old.hash}: {exc}. The old key still works. The new key's secret is in "
                f".new_key.key and nowhere else: store it, then {retire} the old key.",
                old_hash=old.hash,
                stage="retire",
                new_key=new,
            ) from exc
        return new

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

        A key whose old one could not be retired fails with a :class:`RotationError` whose
        ``new_key`` holds the replacement: look in ``result.errors`` as well as in
        ``result.values`` for new secrets.
        """
        if retire not in RETIRE_MODES:
            raise InvalidRequestError(
                f"retire must be 'disable' or 'delete', got {retire!r}", argument="retire"
            )
        call_timeout, call_retries = self._options(timeout, retries)

        async def call(key_hash: str) -> CreatedKey:
            return await self.rotate(
                key_hash, retire=retire, timeout=call_timeout, retries=call_retries
            )

        rate_limited = requeue_rate_limited(call_retries)

        def requeue(exc: Exception) -> bool:
            # Again only when nothing happened yet: a 429 on the get or on the create.
            # A failed retire already made a new key; sending it again would make another.
            if isinstance(exc, RotationError):
                cause = exc.__cause__
                return (
                    exc.stage == "create" and isinstance(cause, Exception) and rate_limited(cause)
                )
            return rate_limited(exc)

        return await collect(
            iter_bulk(
                hashes,
                check_hash,
                call,
                concurrency=concurrency,
                on_progress=on_progress,
                requeue=requeue,
                what="hashes",
            )
        )

    async def over_limit(
        self,
        threshold: float = 1.0,
        *,
        include_disabled: bool = False,
        workspace_id: str | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[APIKey]:
        """Every key whose spend in its current reset window is ``>= threshold × limit``.

        The spend is ``usage_daily``/``weekly``/``monthly`` as the key's ``limit_reset``
        says (all-time ``usage`` when it never resets), plus the BYOK usage of that window
        when the key has ``include_byok_in_limit``. Keys without a limit never qualify.
        ``threshold=0.8`` finds keys at 80% of their limit. Pages are fetched as you iterate.
        """
        threshold = _check_threshold(threshold)
        async for key in self.iter(
            include_disabled, workspace_id, timeout=timeout, retries=retries
        ):
            if is_over_limit(key, threshold):
                yield key

    async def disable_over_limit(
        self,
        threshold: float = 1.0,
        *,
        workspace_id: str | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> BulkResult[APIKey]:
        """Disable every enabled key :meth:`over_limit` finds; return what happened.

        Each item's ``input`` is the key as found (with its usage), ``value`` the disabled
        record. The keys are all found before the first is disabled.
        """
        check_concurrency(concurrency)
        call_timeout, call_retries = self._options(timeout, retries)
        found = [
            key
            async for key in self.over_limit(
                threshold, workspace_id=workspace_id, timeout=call_timeout, retries=call_retries
            )
        ]

        def prepare(key: APIKey) -> str:
            return key.hash

        async def call(key_hash: str) -> APIKey:
            return await self.update(
                key_hash, disabled=True, timeout=call_timeout, retries=call_retries
            )

        return await collect(
            iter_bulk(
                found,
                prepare,
                call,
                concurrency=concurrency,
                on_progress=on_progress,
                requeue=requeue_rate_limited(call_retries),
                what="keys",
            )
        )


def create_body(
    name: Any,
    *,
    limit: Any = NOT_GIVEN,
    limit_reset: Any = NOT_GIVEN,
    include_byok_in_limit: Any = NOT_GIVEN,
    expires_at: Any = NOT_GIVEN,
    creator_user_id: Any = NOT_GIVEN,
    workspace_id: Any = NOT_GIVEN,
) -> dict[str, Any]:
    """The JSON body of a create, validated; raises InvalidRequestError naming the argument."""
    body: dict[str, Any] = {"name": check_name(name)}
    if not isinstance(limit, NotGiven):
        body["limit"] = check_limit(limit)
    if not isinstance(limit_reset, NotGiven):
        body["limit_reset"] = check_limit_reset(limit_reset)
    if not isinstance(include_byok_in_limit, NotGiven):
        body["include_byok_in_limit"] = check_bool(include_byok_in_limit, "include_byok_in_limit")
    if not isinstance(expires_at, NotGiven):
        body["expires_at"] = check_expires_at(expires_at)
    if not isinstance(creator_user_id, NotGiven):
        body["creator_user_id"] = check_optional_str(creator_user_id, "creator_user_id")
    workspace = check_workspace_id(workspace_id)
    if workspace is not None:
        body["workspace_id"] = workspace
    return body


def update_body(
    *,
    name: Any = NOT_GIVEN,
    disabled: Any = NOT_GIVEN,
    limit: Any = NOT_GIVEN,
    limit_reset: Any = NOT_GIVEN,
    include_byok_in_limit: Any = NOT_GIVEN,
) -> dict[str, Any]:
    """The JSON body of an update, validated; refuses an update that changes nothing."""
    body: dict[str, Any] = {}
    if not isinstance(name, NotGiven):
        body["name"] = check_name(name)
    if not isinstance(disabled, NotGiven):
        body["disabled"] = check_bool(disabled, "disabled")
    if not isinstance(limit, NotGiven):
        body["limit"] = check_limit(limit)
    if not isinstance(limit_reset, NotGiven):
        body["limit_reset"] = check_limit_reset(limit_reset)
    if not isinstance(include_byok_in_limit, NotGiven):
        body["include_byok_in_limit"] = check_bool(include_byok_in_limit, "include_byok_in_limit")
    if not body:
        raise InvalidRequestError(
            "update() needs at least one of name, disabled, limit, limit_reset, "
            "include_byok_in_limit",
            argument="update",
        )
    return body


def _check_threshold(threshold: Any) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise InvalidRequestError(
            f"threshold must be a number, got {type(threshold).__name__}", argument="threshold"
        )
    if not math.isfinite(threshold) or threshold <= 0:
        raise InvalidRequestError(
            f"threshold must be a finite number > 0 (1.0: at the limit), got {threshold!r}",
            argument="threshold",
        )
    return float(threshold)


def _create_outcome_unknown(exc: BaseException) -> bool:
    """Whether a failed create may still have made a key (the server got the request)."""
    if isinstance(exc, APIStatusError):
        return exc.status >= 500
    return isinstance(exc, APIConnectionError) and exc.connected


def _data(body: Any, cls: type[T]) -> T:
    if not isinstance(body, dict) or "data" not in body:
        raise APIResponseValidationError(
            "The response does not match the schema: $.data: required field missing",
            status=200,
            body=body,
            errors=("$.data: required field missing",),
        )
    return structure(body["data"], cls, path="$.data")
