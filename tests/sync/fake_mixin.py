"""A base class and a mixin for ``fake_async``, in a module of their own: the generator must
follow them and take the names their annotations use from here."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal
from typing import TYPE_CHECKING, NoReturn


class FakeBase:
    """A base with only private members: nothing of it is mirrored."""

    def _private(self) -> None: ...


class FakeMixin(FakeBase):
    """Members a resource inherits; the stub under TYPE_CHECKING is not one of them."""

    if TYPE_CHECKING:

        async def thread_id(self) -> int: ...

    async def halve(self, value: Decimal) -> Decimal:
        """Half of ``value`` (Decimal is imported only in this module)."""
        return value / 2

    async def countdown(self, n: int) -> AsyncGenerator[int, None]:
        """``n`` down to 1."""
        for i in range(n, 0, -1):
            yield i

    @property
    def limit(self) -> int:
        """A read-only setting that says so when assigned."""
        return 3

    @limit.setter
    def limit(self, value: NoReturn) -> None:
        raise AttributeError("limit is read-only: pass limit= per call")
