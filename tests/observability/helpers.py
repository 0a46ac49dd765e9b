"""Helpers of the hook, span, raw-response and client-copy tests: a hook recorder, zero backoff."""

from __future__ import annotations

from typing import Any

from modelgates_async import RetryConfig

NO_WAIT = RetryConfig(initial_backoff=0.0, max_backoff=0.0, jitter=0.0)


class Recorder:
    """Hooks that append ``(kind, event)`` to one list, in call order; sync and async."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def hooks(self) -> dict[str, list[Any]]:
        """One sync request hook, one async response hook, one sync retry hook."""

        def on_request(event: Any) -> None:
            self.events.append(("request", event))

        async def on_response(event: Any) -> None:
            self.events.append(("response", event))

        def on_retry(event: Any) -> None:
            self.events.append(("retry", event))

        return {"request": [on_request], "response": [on_response], "retry": [on_retry]}

    def kinds(self) -> list[tuple[str, int]]:
        """(kind, attempt) of each event, in order."""
        return [(kind, event.attempt) for kind, event in self.events]
