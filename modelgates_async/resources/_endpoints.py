"""The single calls of ``client.api_keys``: ``list``, ``iter``, ``create``, ``get``,
``update``, ``delete`` and ``get_current_key_metadata`` — one request each (``iter`` one a
page, through ``resources/_paging.py``). Arguments are checked and bodies built in
``_validation.py`` before anything is sent.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator
from datetime import datetime
from functools import partial

from modelgates_async._convert import structure_created_key
from modelgates_async._convert import structure_data as data_of
from modelgates_async._request_body import create_body, query_string, update_body
from modelgates_async._retry import RetryConfig
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._validation import (
    check_bool,
    check_hash,
    check_offset,
    check_workspace_id,
)
from modelgates_async.errors import APIResponseValidationError
from modelgates_async.models import APIKey, CreatedKey, CurrentKey, LimitReset
from modelgates_async.resources._base import AsyncResource
from modelgates_async.resources._paging import walk_pages

__all__ = ["KeyEndpoints"]


class KeyEndpoints(AsyncResource):
    """The single calls of ``api_keys`` (see :class:`~modelgates_async.AsyncAPIKeys`)."""

    __slots__ = ()

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
