"""``client.api_keys``: the key-management endpoints and their bulk twins.

The single calls (``list``, ``iter``, ``create``, ``get``, ``update``, ``delete``,
``get_current_key_metadata``) and the bulk methods (``*_many`` / ``*_many_iter``) live here;
the seeds' use cases (``rotate``, ``rotate_many``, ``over_limit``, ``disable_over_limit``) in
``resources/_usecases.py``; per-call options in ``resources/_base.py``; argument checks and
request bodies in ``_validation.py``.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import AsyncGenerator, Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from modelgates_async._bulk import (
    DEFAULT_CONCURRENCY,
    BulkItem,
    BulkResult,
    KeySpec,
    KeyUpdate,
    ProgressCallback,
    spec_arguments,
    update_arguments,
)
from modelgates_async._resume import journaled_creates
from modelgates_async._retry import RetryConfig
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._validation import (
    check_bool,
    check_hash,
    check_offset,
    check_workspace_id,
    create_body,
    query_string,
    update_body,
)
from modelgates_async.errors import APIResponseValidationError
from modelgates_async.models import (
    APIKey,
    CreatedKey,
    CurrentKey,
    LimitReset,
    structure_created_key,
)
from modelgates_async.resources._base import Arguments, ClientSettings, data_of
from modelgates_async.resources._paging import PAGE_SIZE, walk_pages
from modelgates_async.resources._raw import AsyncAPIKeysWithRawResponse
from modelgates_async.resources._usecases import KeyUseCases

__all__ = ["PAGE_SIZE", "AsyncAPIKeys"]


class AsyncAPIKeys(KeyUseCases):
    """API-key management: list, iterate, create, get, update, delete, current key.

    Bulk: ``create_many``, ``update_many``, ``delete_many``, ``get_many`` (and ``*_iter``
    twins that yield as items finish) return a :class:`BulkResult`. Use cases: ``rotate``,
    ``rotate_many``, ``over_limit``, ``disable_over_limit``.

    Every method takes keyword-only ``timeout=`` (seconds per attempt) and ``retries=``
    (a :class:`RetryConfig`) that override the client's for that call.
    ``with_raw_response.<endpoint>(...)`` returns the answer's status and headers too.
    """

    __slots__ = ("with_raw_response",)

    def __init__(self, client: ClientSettings) -> None:
        super().__init__(client)
        self.with_raw_response = AsyncAPIKeysWithRawResponse(self)

    async def list(
        self,
        offset: int = 0,
        include_disabled: bool = False,
        workspace_id: str | None = None,
        include_expired: bool = False,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> builtins.list[APIKey]:
        """One page of keys, most recent first (at most 100), starting at ``offset``.

        Disabled keys are left out unless ``include_disabled``, expired keys (``expires_at``
        past, by the server's clock) unless ``include_expired``; ``workspace_id`` selects a
        workspace other than the default one.
        """
        params: dict[str, str] = {}
        if check_offset(offset):
            params["offset"] = str(offset)
        if check_bool(include_disabled, "include_disabled"):
            params["include_disabled"] = "true"
        if check_bool(include_expired, "include_expired"):
            params["include_expired"] = "true"
        workspace = check_workspace_id(workspace_id)
        if workspace is not None:
            params["workspace_id"] = workspace
        body = await self._request(
            "GET", "/keys", query=query_string(params), timeout=timeout, retries=retries
        )
        return data_of(body, builtins.list[APIKey])

    def iter(
        self,
        include_disabled: bool = False,
        workspace_id: str | None = None,
        include_expired: bool = False,
        *,
        offset: int = 0,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncGenerator[APIKey, None]:
        """Every key, page by page (fetched as you iterate), with :meth:`list`'s filters.

        A key listed for the whole walk is yielded exactly once while, between two page
        fetches, at most 25 keys ahead of the walk leave the list (deleted, disabled, moved,
        expired) and fewer than 75 are created; a full page with nothing new raises
        :class:`PaginationError`. Memory: one page and 1,000 hashes (``resources/_paging``).
        """
        check_bool(include_disabled, "include_disabled")  # bad arguments fail here, at once
        check_bool(include_expired, "include_expired")
        check_workspace_id(workspace_id)
        page_at = partial(self.list, include_disabled=include_disabled, workspace_id=workspace_id)
        return walk_pages(
            partial(page_at, include_expired=include_expired, timeout=timeout, retries=retries),
            check_offset(offset),
        )

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
        external_user: str | NotGiven | None = NOT_GIVEN,
        external_api_key: str | NotGiven | None = NOT_GIVEN,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> CreatedKey:
        """Create a key; the returned ``CreatedKey.key`` is its secret, shown only this once.

        ``limit`` is in USD (None: no limit); ``limit_reset`` is daily, weekly or monthly
        (None: never resets); ``expires_at`` is an aware datetime or a UTC ISO string.
        ``external_user`` and ``external_api_key`` (≥ 32 characters; needs the user) are
        sent as ``"external"``; the external key is a secret, masked in every error.
        Not idempotent: retried by default only when the server provably did nothing.
        A 2xx that does not validate raises :class:`CreatedKeyValidationError` (``.key``).
        """
        body = create_body(
            name,
            limit=limit,
            limit_reset=limit_reset,
            include_byok_in_limit=include_byok_in_limit,
            expires_at=expires_at,
            creator_user_id=creator_user_id,
            workspace_id=workspace_id,
            external_user=external_user,
            external_api_key=external_api_key,
        )
        response = await self._request(
            "POST",
            "/keys",
            body=body,
            timeout=timeout,
            retries=retries,
            idempotent=False,
            secrets=(body.get("external", {}).get("api_key"),),
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
        body = await self._request("GET", path, timeout=timeout, retries=retries)
        return data_of(body, APIKey)

    async def update(
        self,
        hash: str,
        *,
        name: str | NotGiven = NOT_GIVEN,
        disabled: bool | NotGiven = NOT_GIVEN,
        limit: float | NotGiven | None = NOT_GIVEN,
        limit_reset: LimitReset | str | NotGiven | None = NOT_GIVEN,
        include_byok_in_limit: bool | NotGiven = NOT_GIVEN,
        workspace_id: str | NotGiven = NOT_GIVEN,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> APIKey:
        """Change the given fields of a key and return the new record.

        Only arguments you pass are sent; ``limit=None`` / ``limit_reset=None`` clear them;
        ``workspace_id`` moves the key to that workspace (its own workspace: no change).
        A call with nothing to change is refused before sending. A key changed
        concurrently or that cannot be moved answers 409: :class:`ConflictError`.
        """
        path = "/keys/" + check_hash(hash)
        body = update_body(
            name=name,
            disabled=disabled,
            limit=limit,
            limit_reset=limit_reset,
            include_byok_in_limit=include_byok_in_limit,
            workspace_id=workspace_id,
        )
        response = await self._request("PATCH", path, body=body, timeout=timeout, retries=retries)
        return data_of(response, APIKey)

    async def delete(
        self,
        hash: str,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> bool:
        """Delete a key for good; returns True."""
        path = "/keys/" + check_hash(hash)
        response = await self._request("DELETE", path, timeout=timeout, retries=retries)
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
        body = await self._request("GET", "/key", timeout=timeout, retries=retries)
        return data_of(body, CurrentKey)

    # --- bulk ------------------------------------------------------------------------------
    # Each runs its single-call twin through AsyncResource._bulk: every input is checked with
    # the twin's rules before anything is sent, then sent at bounded concurrency.

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

        ``journal=PATH`` (a 0600 file of intents and secrets) makes the run resumable: call
        again with the same specs and journal (guide "Resuming bulk work"). Interrupted, the
        ``CancelledError``/``KeyboardInterrupt`` carries ``.partial_result``.
        """
        return await self._collect(
            "api_keys.create_many",
            self.create_many_iter(
                specs,
                concurrency=concurrency,
                on_progress=on_progress,
                journal=journal,
                timeout=timeout,
                retries=retries,
            ),
        )

    def create_many_iter(
        self,
        specs: Iterable[KeySpec | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        journal: str | os.PathLike[str] | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncGenerator[BulkItem[CreatedKey], None]:
        """:meth:`create_many`, yielding each spec's :class:`BulkItem` as it finishes.

        Items come in completion order; ``item.index`` is the spec's position. Breaking
        out early cancels the creates in flight (use ``contextlib.aclosing``); with a
        ``journal`` they stay in doubt and the next run reconciles them.
        """
        if journal is not None:
            return journaled_creates(
                self,
                specs,
                journal,
                prepare=spec_arguments,
                body_of=lambda arguments: create_body(**arguments),  # checks it too
                concurrency=concurrency,
                on_progress=on_progress,
                timeout=timeout,
                retries=retries,
            )
        return self._bulk(
            self.create, specs, _spec_call, "specs", concurrency, on_progress, timeout, retries
        )

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
        return await self._collect(
            "api_keys.update_many",
            self.update_many_iter(
                changes,
                concurrency=concurrency,
                on_progress=on_progress,
                timeout=timeout,
                retries=retries,
            ),
        )

    def update_many_iter(
        self,
        changes: Iterable[KeyUpdate | tuple[str, Mapping[str, Any]] | Mapping[str, Any]],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncGenerator[BulkItem[APIKey], None]:
        """:meth:`update_many`, yielding each change's :class:`BulkItem` as it finishes."""
        return self._bulk(
            self.update,
            changes,
            _change_call,
            "changes",
            concurrency,
            on_progress,
            timeout,
            retries,
        )

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
        return await self._collect(
            "api_keys.delete_many",
            self.delete_many_iter(
                hashes,
                concurrency=concurrency,
                on_progress=on_progress,
                timeout=timeout,
                retries=retries,
            ),
        )

    def delete_many_iter(
        self,
        hashes: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncGenerator[BulkItem[bool], None]:
        """:meth:`delete_many`, yielding each hash's :class:`BulkItem` as it finishes."""
        return self._bulk(
            self.delete, hashes, _hash_call, "hashes", concurrency, on_progress, timeout, retries
        )

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
        return await self._collect(
            "api_keys.get_many",
            self.get_many_iter(
                hashes,
                concurrency=concurrency,
                on_progress=on_progress,
                timeout=timeout,
                retries=retries,
            ),
        )

    def get_many_iter(
        self,
        hashes: Iterable[str],
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> AsyncGenerator[BulkItem[APIKey], None]:
        """:meth:`get_many`, yielding each hash's :class:`BulkItem` as it finishes."""
        return self._bulk(
            self.get, hashes, _hash_call, "hashes", concurrency, on_progress, timeout, retries
        )


def _spec_call(spec: object) -> Arguments:
    arguments = spec_arguments(spec)
    create_body(**arguments)  # the create() rules, before anything is sent
    return (), arguments


def _change_call(change: object) -> Arguments:
    key_hash, arguments = update_arguments(change)
    check_hash(key_hash)
    update_body(**arguments)
    return (key_hash,), arguments


def _hash_call(key_hash: object) -> Arguments:
    """The arguments of a call that takes one key hash (a bulk input checked as such)."""
    return (check_hash(key_hash),), {}
