"""Walking the pages of ``GET /keys`` while other clients change the keys.

The list is newest first and paged by offset. Between two page fetches other clients may
create keys (each one pushes every key after it one place down) and take keys out of the
list — delete them, disable them when disabled keys are left out, move them to another
workspace, or let them expire (each one pulls every key after it one place up). A walk that
steps a whole page at a time skips a key for every key taken out ahead of it, and sees a key
again for every key created.

So the walk steps :data:`STEP` keys (a page less :data:`OVERLAP`): a key pulled up by at
most ``OVERLAP`` places is still in the next page. Keys already yielded are recognised by
hash and not yielded again; the walk remembers the last :data:`REMEMBERED` hashes it saw,
which holds the previous page whatever happened. A key already yielded and pushed down by
fewer than ``STEP`` places is still within the previous page's hashes; and a key not yet
seen is only ever pushed further down, past where the next page starts — never skipped.

**Bound.** Between two page fetches, at most ``OVERLAP`` (25) keys ahead of the walk's
position may leave the list and fewer than ``STEP`` (75) keys may be created; within that, every
key that stays in the list for the whole walk is yielded exactly once. Keys created or taken
out during the walk may or may not be yielded. A full page that brings no key not already
seen (a server that repeats pages, or creations faster than the walk moves) raises
:class:`~modelgates_async.errors.PaginationError` instead of looping forever.

Memory stays bounded: one page of records and ``REMEMBERED`` hashes, whatever the key count.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

from modelgates_async.errors import PaginationError
from modelgates_async.models import APIKey

__all__ = ["OVERLAP", "PAGE_SIZE", "REMEMBERED", "STEP", "walk_pages"]

PAGE_SIZE = 100
"""Keys per page of ``GET /keys``; a shorter page is the last one."""
OVERLAP = 25
"""Keys each page shares with the previous one: the keys that may leave the list ahead of
the walk between two page fetches without one being skipped."""
STEP = PAGE_SIZE - OVERLAP
"""How far the offset moves from one page to the next: fewer keys than this may be created
between two page fetches without one being yielded twice or the walk stalling."""
REMEMBERED = 10 * PAGE_SIZE
"""Hashes the walk remembers (the most recently seen): ten pages, so a server cycling
through up to ten pages is caught as well as one repeating a page."""


class _RecentHashes:
    """The ``size`` most recently seen hashes (a hash seen again counts as recent)."""

    __slots__ = ("_order", "_size")

    def __init__(self, size: int) -> None:
        self._order: dict[str, None] = {}  # insertion-ordered: the oldest sighting first
        self._size = size

    def see(self, key_hash: str) -> bool:
        """Record a sighting; True when the hash was not remembered (a new key)."""
        order = self._order
        if key_hash in order:
            del order[key_hash]  # move to the recent end
            order[key_hash] = None
            return False
        order[key_hash] = None
        if len(order) > self._size:
            del order[next(iter(order))]
        return True


async def walk_pages(
    fetch: Callable[[int], Awaitable[list[APIKey]]], offset: int
) -> AsyncGenerator[APIKey, None]:
    """Yield every key of the pages ``fetch(offset)`` returns, once each (see the bound above).

    ``fetch`` is one ``GET /keys`` at that offset with the walk's filters.
    """
    seen = _RecentHashes(REMEMBERED)
    while True:
        page = await fetch(offset)
        fresh = 0
        for key in page:
            if seen.see(key.hash):
                fresh += 1
                yield key
        if len(page) < PAGE_SIZE:
            return
        if not fresh:
            raise PaginationError(
                f"The page of keys at offset {offset} brought no key that the walk had not "
                f"already seen: the server repeats pages, or more than {STEP} keys were "
                "created between two pages. Stopped instead of looping; walk again later.",
                offset=offset,
            )
        offset += STEP
