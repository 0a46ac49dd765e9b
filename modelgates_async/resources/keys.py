"""``client.api_keys``: every key-management operation of the API."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, TypeVar

from modelgates_async._retry import RetryConfig
from modelgates_async._transport import Transport
from modelgates_async._types import NOT_GIVEN, NotGiven
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
from modelgates_async.errors import APIResponseValidationError, InvalidRequestError
from modelgates_async.models import APIKey, CreatedKey, CurrentKey, LimitReset, structure

__all__ = ["PAGE_SIZE", "AsyncAPIKeys"]

T = TypeVar("T")

PAGE_SIZE = 100
"""Keys per page of ``GET /keys``; a shorter page is the last one."""


class AsyncAPIKeys:
    """API-key management: list, iterate, create, get, update, delete, current key.

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
        return structure(response, CreatedKey, status=201)

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


def _data(body: Any, cls: type[T]) -> T:
    if not isinstance(body, dict) or "data" not in body:
        raise APIResponseValidationError(
            "The response does not match the schema: $.data: required field missing",
            status=200,
            body=body,
            errors=("$.data: required field missing",),
        )
    return structure(body["data"], cls, path="$.data")
