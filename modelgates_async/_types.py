"""Small shared types: the NOT_GIVEN sentinel that tells "not sent" apart from ``None``."""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["NOT_GIVEN", "NotGiven"]


class NotGiven:
    """The type of :data:`NOT_GIVEN`: an argument the caller did not pass.

    ``None`` is a value the API understands (JSON ``null`` clears a limit), so "leave this
    field alone" needs a value of its own, as in httpx's ``UseClientDefault``.
    """

    __slots__ = ()
    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        # One instance only, so ``is NOT_GIVEN`` works everywhere, even after copy/pickle.
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
"""Default of every optional argument: nothing is sent for it."""
