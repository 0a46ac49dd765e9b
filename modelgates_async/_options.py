"""``client.with_options(...)``: a cheap copy with other options and the same connections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelgates_async._types import NotGiven

if TYPE_CHECKING:
    from modelgates_async._client import AsyncModelGates

__all__ = ["copy_with_options"]


def copy_with_options(client: AsyncModelGates, **changes: Any) -> AsyncModelGates:
    """A new client built from ``client``'s arguments with ``changes`` (``NOT_GIVEN``: kept).

    The new arguments are checked as the constructor checks them. The copy asks
    ``client`` for its session (made lazily, on the loop of the first call) and shares its
    limiter, so a 429 seen by either slows both; it never closes that session.
    """
    options = dict(client._options)
    options.update({k: v for k, v in changes.items() if not isinstance(v, NotGiven)})
    copy = type(client)(**options)
    copy._parent = client
    copy._transport.limiter = client._transport.limiter
    return copy
