"""``client.api_keys.with_raw_response``: every endpoint, returning a :class:`RawResponse`.

Each method calls the plain method of the same name (same checks, retries, hooks and spans)
while the transport records the status and headers of the answer. The signatures mirror
the plain ones; a test keeps them in step.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import TYPE_CHECKING

from modelgates_async._raw import RawResponse, capture_raw
from modelgates_async._retry import RetryConfig
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async.models import APIKey, CreatedKey, CurrentKey, LimitReset

if TYPE_CHECKING:
    from modelgates_async.resources._endpoints import KeyEndpoints

__all__ = ["AsyncAPIKeysWithRawResponse"]


class AsyncAPIKeysWithRawResponse:
    """The endpoints of ``api_keys``, each returning ``RawResponse`` (``.status``,
    ``.headers``, ``.parse()`` → the usual record). Errors are raised as usual."""

    __slots__ = ("_keys",)

    def __init__(self, keys: KeyEndpoints) -> None:
        self._keys = keys

    async def list(
        self,
        offset: int = 0,
        include_disabled: bool = False,
        workspace_id: str | None = None,
        include_expired: bool = False,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> RawResponse[builtins.list[APIKey]]:
        """``list()``, with the answer's status and headers."""
        return await capture_raw(
            self._keys.list(
                offset,
                include_disabled,
                workspace_id,
                include_expired,
                timeout=timeout,
                retries=retries,
            )
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
    ) -> RawResponse[CreatedKey]:
        """``create()``, with the answer's status and headers (``.parse().key`` is the secret)."""
        return await capture_raw(
            self._keys.create(
                name,
                limit=limit,
                limit_reset=limit_reset,
                include_byok_in_limit=include_byok_in_limit,
                expires_at=expires_at,
                creator_user_id=creator_user_id,
                workspace_id=workspace_id,
                external_user=external_user,
                external_api_key=external_api_key,
                timeout=timeout,
                retries=retries,
            )
        )

    async def get(
        self,
        hash: str,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> RawResponse[APIKey]:
        """``get()``, with the answer's status and headers."""
        return await capture_raw(self._keys.get(hash, timeout=timeout, retries=retries))

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
    ) -> RawResponse[APIKey]:
        """``update()``, with the answer's status and headers."""
        return await capture_raw(
            self._keys.update(
                hash,
                name=name,
                disabled=disabled,
                limit=limit,
                limit_reset=limit_reset,
                include_byok_in_limit=include_byok_in_limit,
                workspace_id=workspace_id,
                timeout=timeout,
                retries=retries,
            )
        )

    async def delete(
        self,
        hash: str,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> RawResponse[bool]:
        """``delete()``, with the answer's status and headers."""
        return await capture_raw(self._keys.delete(hash, timeout=timeout, retries=retries))

    async def get_current_key_metadata(
        self,
        *,
        timeout: float | NotGiven = NOT_GIVEN,
        retries: RetryConfig | NotGiven = NOT_GIVEN,
    ) -> RawResponse[CurrentKey]:
        """``get_current_key_metadata()``, with the answer's status and headers."""
        return await capture_raw(
            self._keys.get_current_key_metadata(timeout=timeout, retries=retries)
        )
