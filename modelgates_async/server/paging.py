"""Resume points of list walks, so that the page at offset N costs what the first page costs.

``GET /keys`` pages by offset. Skipping N rows to reach a page makes a walk over N keys cost
O(N²). A store that has just answered the page ending at offset N remembers where that page
stopped (the sort position of its last row); the request for offset N then seeks there
instead of skipping. A resume point holds only while the answer would be the same as the
skipping one: no write since (the store's version), and, when expired keys are left out, no
key expired or came back between the two clocks.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["LISTING_FIELDS", "Position", "ResumePoint", "ResumePoints"]

#: Where a row sits in the list order: (created_at in epoch microseconds, insert sequence).
Position = tuple[int, int]
#: The record fields whose change moves a record in (or out of) some list: a store counts
#: such a change as a write that resume points do not outlive.
LISTING_FIELDS = frozenset({"workspace_id", "disabled", "expires_at"})


@dataclasses.dataclass(frozen=True, slots=True)
class ResumePoint:
    """The end of a page that was answered: the next page starts strictly after ``position``."""

    position: Position
    version: Hashable
    #: ``active_at`` of the query (epoch microseconds), None when expired keys were listed.
    active_at_us: int | None


class ResumePoints:
    """A small LRU of resume points keyed by (query shape, offset of the next page)."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._points: OrderedDict[tuple[Hashable, int], ResumePoint] = OrderedDict()

    def find(
        self, shape: Hashable, offset: int, version: Hashable, within: int = 0
    ) -> tuple[ResumePoint, int] | None:
        """The resume point for this query nearest at or below ``offset`` — at most
        ``within`` rows below it — if no write happened since, and how many rows lie between
        it and ``offset`` (kept: a client retrying a page finds it again).

        ``within`` serves walks whose pages overlap (the SDK's ``iter()`` steps 75 rows for
        100-row pages): their next offset is inside the page just answered, not at its end.
        """
        key = (shape, offset)
        point = self._points.get(key)
        if point is None and within:
            below = [
                at
                for (kind, at) in self._points
                if kind == shape and offset - within <= at < offset
            ]
            if below:
                key = (shape, max(below))
                point = self._points[key]
        if point is None:
            return None
        if point.version != version:
            del self._points[key]
            return None
        self._points.move_to_end(key)
        return point, offset - key[1]

    def seek(
        self,
        shape: Hashable,
        offset: int,
        version: Hashable,
        within: int,
        active_at_us: int | None,
        expiry_between: Callable[[int, int], bool],
    ) -> tuple[Position, int] | None:
        """Where the page at ``offset`` may start instead of skipping ``offset`` rows: the
        position it starts strictly after and the rows to skip from there; None to skip.

        A point found (see :meth:`find`) is not used when expired keys are left out and
        ``expiry_between(low, high)`` says some key expires in ``(low, high]``, between the
        point's ``active_at`` and this query's.
        """
        found = self.find(shape, offset, version, within) if offset else None
        if found is None:
            return None
        point, between = found
        if active_at_us is not None and point.active_at_us is not None:
            low, high = sorted((point.active_at_us, active_at_us))
            if expiry_between(low, high):
                return None
        return point.position, between

    def remember(self, shape: Hashable, offset: int, point: ResumePoint) -> None:
        """Keep ``point`` as where the page at ``offset`` of this query starts."""
        self._points[(shape, offset)] = point
        self._points.move_to_end((shape, offset))
        while len(self._points) > self._size:
            self._points.popitem(last=False)

    def clear(self) -> None:
        """Forget every resume point."""
        self._points.clear()
