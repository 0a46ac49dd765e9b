"""``client.api_keys``: the key-management namespace, put together from its parts.

The single calls (``list``, ``iter``, ``create``, ``get``, ``update``, ``delete``,
``get_current_key_metadata``) live in ``resources/_endpoints.py``; the bulk methods
(``*_many`` / ``*_many_iter``) in ``resources/_bulk_calls.py``; the seeds' use cases
(``rotate``, ``rotate_many``, ``over_limit``, ``disable_over_limit``) in
``resources/_usecases.py``; ``iter()``'s walk in ``resources/_paging.py``; per-call options in
``resources/_base.py``; argument checks and request bodies in ``_validation.py``.
"""

from __future__ import annotations

from modelgates_async.resources._base import ClientSettings
from modelgates_async.resources._bulk_calls import KeyBulkCalls
from modelgates_async.resources._paging import PAGE_SIZE
from modelgates_async.resources._raw import AsyncAPIKeysWithRawResponse
from modelgates_async.resources._usecases import KeyUseCases

__all__ = ["PAGE_SIZE", "AsyncAPIKeys"]


class AsyncAPIKeys(KeyBulkCalls, KeyUseCases):
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
