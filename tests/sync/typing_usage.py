"""Code written against the sync facade; ``test_generation.py`` runs mypy --strict on it.

``# type: ignore[code]`` lines are mistakes mypy must catch: with ``warn_unused_ignores``
(part of --strict) an ignore that is not needed fails the check.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator

from modelgates_async import (
    APIKey,
    APIKeys,
    BulkResult,
    CreatedKey,
    CurrentKey,
    KeySpec,
    ModelGates,
    RetryConfig,
)


def use(mg: ModelGates) -> None:
    keys: APIKeys = mg.api_keys
    page: list[APIKey] = keys.list(offset=0, include_disabled=True, timeout=5.0)
    every: Iterator[APIKey] = keys.iter(include_disabled=True)
    pages: Generator[APIKey, None, None] = keys.iter()
    pages.close()
    created: CreatedKey = keys.create("tenant", limit=None, limit_reset="monthly")
    one: APIKey = keys.get(created.data.hash, retries=RetryConfig.disabled())
    changed: APIKey = keys.update(one.hash, disabled=True)
    gone: bool = keys.delete(changed.hash)
    me: CurrentKey = keys.get_current_key_metadata()
    report: BulkResult[CreatedKey] = keys.create_many([KeySpec("a")], concurrency=4)
    closed: bool = mg.closed
    url: str = mg.base_url
    print(page, next(every), gone, me, report, closed, url)

    keys.get(42)  # type: ignore[arg-type]
    keys.create("x", limit="lots")  # type: ignore[arg-type]
    bad: str = keys.delete("h")  # type: ignore[assignment]
    for key in keys.iter():
        key.nope  # type: ignore[attr-defined]  # noqa: B018
    print(bad)


def main() -> None:
    with ModelGates(api_key="sk-...", base_url="http://127.0.0.1:8080/api/v1") as mg:
        use(mg)
    mg.close()
