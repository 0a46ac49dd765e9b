"""The bulk methods of ``client.api_keys``: ``create_many``, ``update_many``,
``delete_many``, ``get_many`` and their ``*_iter`` twins. Each runs its single-call twin
through ``AsyncResource._bulk``; ``create_many(journal=)`` goes through ``_resume``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Iterable, Mapping
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
from modelgates_async._request_body import create_body, update_body
from modelgates_async._resume import journaled_creates
from modelgates_async._retry import RetryConfig
from modelgates_async._tracing import traced_items
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._validation import check_hash
from modelgates_async.models import APIKey, CreatedKey
from modelgates_async.resources._base import Arguments
from modelgates_async.resources._endpoints import KeyEndpoints

__all__ = ["KeyBulkCalls"]


class KeyBulkCalls(KeyEndpoints):
    """The bulk methods of ``api_keys`` (see :class:`~modelgates_async.AsyncAPIKeys`)."""

    __slots__ = ()

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
            return traced_items(
                "api_keys.create_many_iter",
                journaled_creates(
                    self,
                    specs,
                    journal,
                    prepare=spec_arguments,
                    body_of=lambda arguments: create_body(**arguments),  # checks it too
                    concurrency=concurrency,
                    on_progress=on_progress,
                    timeout=timeout,
                    retries=retries,
                ),
            )
        return traced_items(
            "api_keys.create_many_iter",
            self._bulk(
                self.create, specs, _spec_call, "specs", concurrency, on_progress, timeout, retries
            ),
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
        return traced_items(
            "api_keys.update_many_iter",
            self._bulk(
                self.update,
                changes,
                _change_call,
                "changes",
                concurrency,
                on_progress,
                timeout,
                retries,
            ),
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
        return traced_items(
            "api_keys.delete_many_iter",
            self._bulk(
                self.delete,
                hashes,
                _hash_call,
                "hashes",
                concurrency,
                on_progress,
                timeout,
                retries,
            ),
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
        return traced_items(
            "api_keys.get_many_iter",
            self._bulk(
                self.get, hashes, _hash_call, "hashes", concurrency, on_progress, timeout, retries
            ),
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
