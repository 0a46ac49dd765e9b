"""``create_many(journal=…)``: resume from a journal, reconcile what is in doubt, create the rest.

A run with a journal (see ``_journal.py`` for the file):

1. checks every spec and opens the journal — a journal written for other specs is refused
   (:class:`JournalMismatchError`) before anything is sent;
2. returns the specs the journal has as done from the journal, without a request;
3. reconciles the specs in doubt (an intent, no outcome: the process died, or the answer
   was lost): their orphans are found and deleted, then they are created like the rest;
4. creates the rest at bounded concurrency, recording each intent (on disk before the
   request is sent; written a batch ahead, see :class:`_Intents`) and each outcome (on disk
   before it is reported — yielded, counted by ``on_progress`` or returned — while the
   worker already sends the next create).

**How an orphan is recognised.** A key is taken as an orphan of a spec in doubt when it is
in the spec's workspace, has the spec's name, was created at or after the spec's first
unsettled intent (minus :data:`CLOCK_SKEW`, for the difference between this machine's clock
and the server's), and its hash is not one the journal holds. Keys are listed newest first,
so the walk stops after a full page of keys older than that; expired and disabled keys are
listed too (an orphan that expired since is deleted all the same).

Limits of that rule, as a user must know them:

- a key with the same name made by someone (or something) else in the same workspace in
  that window — from the intent to the resume — is taken as an orphan and deleted: do not
  create keys of the names of an unfinished journal by other means until it is resumed;
  two journals that create the same names in one workspace must not run at once;
- a create the server was still processing when the resume listed the keys (a request
  that outlived its client by more than the time the resume takes to start) is not seen;
- clocks further apart than :data:`CLOCK_SKEW` can hide an orphan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from modelgates_async._bulk import (
    BulkItem,
    BulkResult,
    ProgressCallback,
    _inputs,
    attach_partial_result,
    check_concurrency,
    requeue_rate_limited,
    run_prepared,
)
from modelgates_async._convert import structure_created_key
from modelgates_async._journal import Journal, JournalEntry, created_record, fingerprint
from modelgates_async._retry import RetryConfig
from modelgates_async._types import NotGiven
from modelgates_async.errors import (
    APIConnectionError,
    APIStatusError,
    CreatedKeyValidationError,
    InvalidRequestError,
    JournalError,
    NotFoundError,
    NotStartedError,
)
from modelgates_async.models import APIKey, CreatedKey

if TYPE_CHECKING:  # the single calls of api_keys, which the journaled creates build on
    from modelgates_async.resources._endpoints import KeyEndpoints

__all__ = ["CLOCK_SKEW", "journaled_creates"]

logger = logging.getLogger("modelgates_async")

_RECORD_FIELDS = tuple(field.name for field in attrs.fields(APIKey))

CLOCK_SKEW = 120.0
"""Seconds by which this machine's clock may be ahead of the server's without an orphan
being missed (see the module's orphan rule)."""

ORPHAN_SCAN_STOP = 100
"""Consecutive keys older than every intent in doubt after which the orphan walk stops
(one page of ``GET /keys``; the list is newest first)."""

INTENTS_AHEAD = 8
"""Intents are recorded up to this many × ``concurrency`` specs ahead of the creates (so a
slow fsync rarely holds a create back; a crash leaves that many more specs to reconcile)."""

INVALID_SPEC = "invalid"
"""The fingerprint of a spec that fails its checks (it is never sent)."""


async def journaled_creates(
    keys: KeyEndpoints,
    specs: Iterable[Any],
    path: Any,
    *,
    prepare: Callable[[Any], dict[str, Any]],
    body_of: Callable[[dict[str, Any]], dict[str, Any]],
    concurrency: int,
    on_progress: ProgressCallback | None,
    timeout: float | NotGiven,
    retries: RetryConfig | NotGiven,
    requeue: Callable[[RetryConfig], Callable[[Exception], bool]] = requeue_rate_limited,
) -> AsyncGenerator[BulkItem[CreatedKey], None]:
    """``create_many_iter`` with a journal at ``path`` (see the module).

    ``prepare`` turns a spec into ``create()`` keyword arguments; ``body_of`` checks them
    and gives their request body (what a fingerprint covers). Either raising fails that
    spec alone, before anything is sent. ``timeout``/``retries`` default to the client's
    (as for every call of ``keys``); ``requeue`` makes, from the retry policy, the test of
    which failures go back into the queue.
    """
    call_timeout, call_retries = keys._options(timeout, retries)
    check_concurrency(concurrency)
    items = _inputs(specs, "specs")
    refused: list[BulkItem[CreatedKey]] = []
    arguments: dict[int, dict[str, Any]] = {}
    bodies: dict[int, dict[str, Any]] = {}
    fingerprints: list[str] = []
    for index, given in enumerate(items):
        try:
            arguments[index] = prepare(given)
            bodies[index] = body_of(arguments[index])
            fingerprints.append(fingerprint(bodies[index]))
        except Exception as exc:
            refused.append(BulkItem(index, given, error=exc))
            fingerprints.append(INVALID_SPEC)
    journal = Journal.open(path, fingerprints)
    try:
        settled = refused + [
            _from_journal(entry, items[entry.index])
            for entry in journal.entries
            if entry.state == "done" and entry.index in arguments
        ]
        try:
            await _reconcile(keys, journal, bodies, timeout=call_timeout, retries=call_retries)
        except BaseException as interruption:
            _attach_not_started(interruption, items, settled)
            raise
        done = {item.index for item in settled}
        entries = [
            (index, items[index], (index, args))
            for index, args in arguments.items()
            if index not in done
        ]

        intents = _Intents(journal, [index for index, _, _ in entries], INTENTS_AHEAD * concurrency)
        outcomes: dict[int, asyncio.Future[None]] = {}

        async def call(payload: tuple[int, dict[str, Any]]) -> CreatedKey:
            index, args = payload
            return await _create(
                keys,
                journal,
                intents,
                outcomes,
                index,
                args,
                timeout=call_timeout,
                retries=call_retries,
            )

        def acknowledge(item: BulkItem[CreatedKey]) -> asyncio.Future[None] | None:
            return outcomes.pop(item.index, None)

        run = run_prepared(
            len(items),
            settled,
            entries,
            call,
            concurrency=concurrency,
            on_progress=on_progress,
            requeue=requeue(call_retries),
            acknowledge=acknowledge,
        )
        async with contextlib.aclosing(run):
            async for item in run:
                yield item
    finally:
        try:
            await journal.aclose()
        finally:
            journal.close()


def _from_journal(entry: JournalEntry, given: Any) -> BulkItem[CreatedKey]:
    try:
        created = structure_created_key({"key": entry.key, "data": entry.data}, status=201)
    except CreatedKeyValidationError as exc:  # recorded from a create whose record failed
        exc.key_hash = exc.key_hash or entry.key_hash
        return BulkItem(entry.index, given, error=exc)
    return BulkItem(entry.index, given, value=created)


def _attach_not_started(
    interruption: BaseException, items: list[Any], settled: list[BulkItem[CreatedKey]]
) -> None:
    outcomes = {item.index: item for item in settled}
    attach_partial_result(
        interruption,
        BulkResult(
            outcomes.get(index) or BulkItem(index, given, error=NotStartedError())
            for index, given in enumerate(items)
        ),
    )


def _no_key_made(exc: Exception) -> bool:
    """Whether a failed create provably made no key (so the spec is no longer in doubt)."""
    if isinstance(exc, APIStatusError):
        return exc.status < 500
    if isinstance(exc, APIConnectionError):
        return not exc.connected
    return isinstance(exc, InvalidRequestError)


class _Intents:
    """Intents written ahead of need: the specs' intents are recorded in queue order, a
    chunk of ``ahead`` at a time, and the next chunk is written while the current one is
    still being used — so one fsync serves many creates and a create rarely waits for the
    disk. An intent recorded for a spec that is then never sent only costs a resume a
    short listing (the spec is in doubt; no orphan is found)."""

    def __init__(self, journal: Journal, order: list[int], ahead: int) -> None:
        self._journal = journal
        self._order = order
        self._position = {index: position for position, index in enumerate(order)}
        self._ahead = max(1, ahead)
        self._cursor = 0  # order[:cursor] have had an intent written
        self._recorded: dict[int, asyncio.Future[None]] = {}

    async def before_send(self, index: int) -> None:
        """Return once spec ``index``'s intent is on disk."""
        position = self._position.get(index, -1)
        if position + self._ahead >= self._cursor:  # running low: write the next chunk
            self._write(self._order[self._cursor : position + 2 * self._ahead])
            self._cursor = max(self._cursor, min(position + 2 * self._ahead, len(self._order)))
        written = self._recorded.get(index)
        if written is None:  # sent before (a 429 put it back): it needs a new intent
            self._write([index])
            written = self._recorded[index]
        if written.done():  # the usual case: written ahead
            written.result()  # raises JournalError when it could not be written
            return
        self._journal.hurry()  # a create waits for it
        await asyncio.shield(written)

    def _write(self, indices: list[int]) -> None:
        batch = [i for i in indices if i not in self._recorded]
        if batch:
            now = time.time()
            written = self._journal.write([{"i": i, "intent": now} for i in batch])
            for i in batch:
                self._recorded[i] = written

    def spent(self, index: int) -> None:
        """Spec ``index`` was sent: sending it again needs an intent of its own."""
        self._recorded.pop(index, None)


async def _create(
    keys: KeyEndpoints,
    journal: Journal,
    intents: _Intents,
    outcomes: dict[int, asyncio.Future[None]],
    index: int,
    arguments: dict[str, Any],
    *,
    timeout: float,
    retries: RetryConfig,
) -> CreatedKey:
    """One create: its intent on disk first; its outcome written (``outcomes[index]`` is
    done once it is on disk: the item is reported only then)."""
    await intents.before_send(index)
    try:
        created = await keys.create(**arguments, timeout=timeout, retries=retries)
    except CreatedKeyValidationError as exc:
        intents.spent(index)
        outcomes[index] = _outcome(journal, created_record(index, exc.key_hash, exc.key, None))
        raise
    except Exception as exc:
        intents.spent(index)
        if _no_key_made(exc):  # no longer in doubt; if this record is lost, resume checks
            journal.write([{"i": index, "failed": type(exc).__name__}])
        raise
    intents.spent(index)
    data = {name: getattr(created.data, name) for name in _RECORD_FIELDS}
    outcomes[index] = _outcome(journal, created_record(index, created.data.hash, created.key, data))
    return created


def _outcome(journal: Journal, record: dict[str, Any]) -> asyncio.Future[None]:
    """Write an outcome; the future is done once it is on disk (or failed to be)."""
    written = journal.write([record])
    index = record["i"]

    def log_failure(future: asyncio.Future[None]) -> None:
        exc = None if future.cancelled() else future.exception()
        if isinstance(exc, JournalError):
            # The caller still gets the secret (in the result); only the journal misses it.
            logger.error(
                "spec %d: a key was created but %s; its secret is only in this run's "
                "result, and a resume would delete that key as an orphan",
                index,
                exc.message,
            )

    written.add_done_callback(log_failure)
    return written


async def _reconcile(
    keys: KeyEndpoints,
    journal: Journal,
    bodies: dict[int, dict[str, Any]],
    *,
    timeout: float,
    retries: RetryConfig,
) -> None:
    """Delete the orphans of the specs in doubt; afterwards they are to do again."""
    doubtful = [e for e in journal.in_doubt() if e.index in bodies]
    if not doubtful:
        return
    started = time.time()
    # workspace -> name -> (earliest moment an orphan may carry, spec that owns it)
    wanted: dict[str | None, dict[str, tuple[float, int]]] = {}
    for entry in doubtful:
        body = bodies[entry.index]
        names = wanted.setdefault(body.get("workspace_id"), {})
        since = (entry.doubt_since or 0.0) - CLOCK_SKEW
        previous = names.get(body["name"])
        if previous is None or since < previous[0]:
            names[body["name"]] = (since, entry.index)
    known = journal.known_hashes | journal.orphans
    for workspace, names in wanted.items():
        floor = min(since for since, _ in names.values())
        older_in_a_row = 0
        orphans: list[tuple[int, str]] = []
        walk = keys.iter(
            include_disabled=True,
            include_expired=True,  # an orphan that expired since is deleted all the same
            workspace_id=workspace,
            timeout=timeout,
            retries=retries,
        )
        async with contextlib.aclosing(walk):  # the break closes it now, not at GC
            async for key in walk:
                created_at = key.created_at.timestamp()
                older_in_a_row = older_in_a_row + 1 if created_at < floor else 0
                if older_in_a_row >= ORPHAN_SCAN_STOP:
                    break
                match = names.get(key.name)
                if match is not None and created_at >= match[0] and key.hash not in known:
                    orphans.append((match[1], key.hash))
        for owner, key_hash in orphans:
            with contextlib.suppress(NotFoundError):  # already gone
                await keys.delete(key_hash, timeout=timeout, retries=retries)
            await journal.orphan(owner, key_hash)
            logger.warning(
                "deleted orphan key %s of spec %d (its secret was lost)", key_hash, owner
            )
    for entry in doubtful:
        await journal.cleared(entry.index, started)
