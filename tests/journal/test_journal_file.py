"""The journal file: permissions, torn tails, corruption, locking, specs that differ."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import stat
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from modelgates_async import (
    AsyncModelGates,
    JournalError,
    JournalMismatchError,
    KeySpec,
    NotFoundError,
    read_journal,
)
from modelgates_async import _journal as journal_module
from modelgates_async._journal import Journal, created_record, fingerprint
from modelgates_async._resume import CLOCK_SKEW
from modelgates_async.server import LocalServer
from tests.journal.helpers import (
    assert_created_are_on_server,
    assert_journal_invariant,
    keys_on_server,
    spec_list,
)

SPECS = ["aaaa", "bbbb", "cccc"]


def append(path: str, data: bytes) -> None:
    with open(path, "ab") as file:
        file.write(data)


def content(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def lines(path: str) -> list[dict[str, object]]:
    with open(path, encoding="utf-8") as file:
        return [json.loads(line) for line in file]


async def intent(journal: Journal, index: int) -> None:
    """Record that spec ``index`` is about to be sent; returns once it is on disk."""
    await asyncio.shield(journal.write([{"i": index, "intent": time.time()}], urgent=True))


async def created(
    journal: Journal, index: int, key_hash: str | None, key: str, data: dict[str, Any] | None
) -> None:
    """Record spec ``index``'s key and secret; returns once it is on disk."""
    await asyncio.shield(journal.write([created_record(index, key_hash, key, data)], urgent=True))


async def test_a_new_journal_is_0600_whatever_the_umask(journal_path: str) -> None:
    """The journal is created owner-only even under a permissive umask."""
    old = os.umask(0)
    try:
        journal = Journal.open(journal_path, SPECS)
    finally:
        os.umask(old)
    journal.close()
    assert stat.S_IMODE(os.stat(journal_path).st_mode) == 0o600


async def test_a_journal_others_can_read_is_refused(journal_path: str) -> None:
    """An existing journal readable by group or others is refused, naming chmod 600."""
    Journal.open(journal_path, SPECS).close()
    os.chmod(journal_path, 0o644)
    with pytest.raises(JournalError, match="chmod 600"):
        Journal.open(journal_path, SPECS)


async def test_records_are_on_disk_when_the_write_returns(journal_path: str) -> None:
    """An intent and an outcome are in the file once their awaits return."""
    journal = Journal.open(journal_path, SPECS)
    await intent(journal, 1)
    await created(journal, 1, "h1", "sk-mg-v1-" + "s" * 40, {"name": "x"})
    assert lines(journal_path)[1:] == [
        {"i": 1, "intent": lines(journal_path)[1]["intent"]},
        {"i": 1, "hash": "h1", "key": "sk-mg-v1-" + "s" * 40, "data": {"name": "x"}},
    ]
    await journal.aclose()


async def test_a_torn_last_line_loads_and_is_cut_off(journal_path: str) -> None:
    """A crash mid-write (an unterminated last record) loads; the tail is removed."""
    journal = Journal.open(journal_path, SPECS)
    await intent(journal, 0)
    await created(journal, 0, "h0", "sk-secret-0000000000000000000", None)
    await intent(journal, 2)
    await journal.aclose()
    append(journal_path, b'{"i": 2, "hash": "h2", "key": "sk-tor')
    entries = read_journal(journal_path)
    assert [e.state for e in entries] == ["done", "todo", "in_doubt"]
    reopened = Journal.open(journal_path, SPECS)
    await reopened.aclose()
    assert content(journal_path).endswith(b"}\n")
    assert len(lines(journal_path)) == 4


async def test_zeros_after_the_last_record_count_as_a_torn_tail(journal_path: str) -> None:
    """Garbage after the last complete record (a power cut) is a torn tail, not corruption."""
    journal = Journal.open(journal_path, SPECS)
    await intent(journal, 0)
    await journal.aclose()
    append(journal_path, b"\0" * 50 + b"\n" + b"\0" * 10)
    assert [e.state for e in read_journal(journal_path)] == ["in_doubt", "todo", "todo"]


async def test_a_bad_line_between_records_is_corruption(journal_path: str) -> None:
    """A line that is not a record followed by good ones is refused, naming the line."""
    journal = Journal.open(journal_path, SPECS)
    await intent(journal, 0)
    await journal.aclose()
    append(journal_path, b"not json\n" + json.dumps({"i": 1, "intent": 1.0}).encode() + b"\n")
    with pytest.raises(JournalError, match="line 3"):
        read_journal(journal_path)


async def test_a_header_torn_by_a_crash_starts_the_journal_again(journal_path: str) -> None:
    """A file holding only a partial header (nothing was sent) is started afresh."""
    fd = os.open(journal_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b'{"journal": "modelgates-async/crea')
    os.close(fd)
    Journal.open(journal_path, SPECS).close()
    assert lines(journal_path)[0]["specs"] == SPECS


async def test_a_second_process_cannot_open_a_journal_in_use(journal_path: str) -> None:
    """The journal is locked while open: a second opener gets JournalError."""
    first = Journal.open(journal_path, SPECS)
    try:
        with pytest.raises(JournalError, match="in use"):
            Journal.open(journal_path, SPECS)
    finally:
        first.close()


async def test_the_repr_shows_counts_never_a_secret(journal_path: str) -> None:
    """repr(journal) and repr of its entries hold no secret."""
    journal = Journal.open(journal_path, SPECS)
    await created(journal, 0, "h0", "sk-mg-v1-topsecretvalue-123456", {"a": 1})
    assert "topsecret" not in repr(journal)
    assert "topsecret" not in repr(journal.entries[0])
    assert "done=1" in repr(journal)
    await journal.aclose()


def test_a_fingerprint_covers_every_field_of_the_body() -> None:
    """Two bodies that differ in any field have different fingerprints."""
    assert fingerprint({"name": "a", "limit": 1}) != fingerprint({"name": "a", "limit": 2})
    assert fingerprint({"name": "a", "limit": 1}) == fingerprint({"limit": 1, "name": "a"})


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(lambda s: [s[1], s[0], *s[2:]], id="reordered"),
        pytest.param(lambda s: [*s[:3], KeySpec("tenant-00003", limit=99), *s[4:]], id="edited"),
        pytest.param(lambda s: s[:-1], id="shorter"),
    ],
)
async def test_specs_that_differ_from_the_journal_are_refused_before_any_request(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    journal_path: str,
    changed: object,
) -> None:
    """Other specs against a journal → JournalMismatchError, and nothing is sent."""
    specs = spec_list(6)
    await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    modelgates_server.inject_fault("*", status=500, times=1000)  # any request would fail
    with pytest.raises(JournalMismatchError) as caught:
        await async_modelgates_client.api_keys.create_many(
            changed(specs),  # type: ignore[operator]
            journal=journal_path,
        )
    assert caught.value.path == journal_path
    assert len(modelgates_server.state.faults.pending()[0:1]) == 1
    assert modelgates_server.state.faults.pending()[0].times == 1000


async def test_a_finished_journal_answers_without_any_request(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    journal_path: str,
) -> None:
    """Re-running a finished journal returns every key and secret from the file alone."""
    specs = spec_list(20)
    first = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    modelgates_server.inject_fault("*", status=500, times=1000)
    again = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    assert modelgates_server.state.faults.pending()[0].times == 1000
    assert [c.key for c in again.values] == [c.key for c in first.values]
    assert [c.data for c in again.values] == [c.data for c in first.values]
    modelgates_server.state.faults.clear()
    await assert_journal_invariant(
        async_modelgates_client, modelgates_server.base_url, specs, journal_path
    )


async def test_an_orphan_of_a_spec_in_doubt_is_deleted_and_the_spec_made_once(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    journal_path: str,
) -> None:
    """A key made for a spec whose outcome never reached the journal is deleted on resume."""
    specs = spec_list(3)
    modelgates_server.clock.set(datetime.now(timezone.utc) - timedelta(seconds=2 * CLOCK_SKEW))
    bystander = await async_modelgates_client.api_keys.create("tenant-00001")  # made long before
    modelgates_server.clock.resume()
    journal = Journal.open(
        journal_path, [fingerprint({"name": s.name, "limit": s.limit}) for s in specs]
    )
    await intent(journal, 1)
    await journal.aclose()
    orphan = await async_modelgates_client.api_keys.create("tenant-00001", limit=2.0)
    result = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    assert result.ok
    on_server = await keys_on_server(async_modelgates_client)
    assert orphan.data.hash not in on_server
    assert sorted(on_server.values()) == [
        "tenant-00000",
        "tenant-00001",
        "tenant-00001",
        "tenant-00002",
    ]
    assert bystander.data.hash in on_server  # older than the intent: not an orphan
    assert {"i": 1, "orphan": orphan.data.hash} in lines(journal_path)


async def test_a_create_that_failed_with_a_5xx_is_reconciled_and_made_once_on_resume(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    journal_path: str,
) -> None:
    """A 500 leaves the spec in doubt; the next run makes it exactly once."""
    specs = spec_list(10)
    modelgates_server.inject_fault("/keys", method="POST", status=500, times=2)
    first = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    assert first.failed == 2
    assert sum(e.state == "in_doubt" for e in read_journal(journal_path)) == 2
    second = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    assert second.ok
    await assert_journal_invariant(
        async_modelgates_client, modelgates_server.base_url, specs, journal_path
    )


async def test_a_bad_spec_fails_alone_and_is_never_sent(
    async_modelgates_client: AsyncModelGates, journal_path: str
) -> None:
    """An invalid spec fails with InvalidRequestError; the others are created."""
    specs: list[object] = [KeySpec("ok-1"), KeySpec("ok-2", limit=-1), KeySpec("ok-3")]
    result = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)  # type: ignore[arg-type]
    assert [item.ok for item in result] == [True, False, True]
    assert sorted((await keys_on_server(async_modelgates_client)).values()) == ["ok-1", "ok-3"]


async def test_a_full_disk_still_gives_every_secret_to_the_caller(
    async_modelgates_client: AsyncModelGates,
    journal_path: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Outcomes that cannot be written (ENOSPC) still reach the caller in the result; the
    log says so without a secret."""
    specs = spec_list(5)
    write = journal_module._write_durably

    def full_disk_for_outcomes(fd: int, data: bytes) -> None:
        if b'"key"' in data:
            raise OSError(errno.ENOSPC, "No space left on device")
        write(fd, data)

    monkeypatch.setattr(journal_module, "_write_durably", full_disk_for_outcomes)
    result = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    assert result.ok
    await assert_created_are_on_server(async_modelgates_client, result)
    assert "No space left on device" in caplog.text
    assert not any(created.key in caplog.text for created in result.values)


async def test_an_intent_that_cannot_be_written_sends_nothing(
    async_modelgates_client: AsyncModelGates,
    journal_path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the intents cannot be made durable, the creates fail with JournalError and no
    key is made."""
    Journal.open(
        journal_path, [fingerprint({"name": s.name, "limit": s.limit}) for s in spec_list(3)]
    ).close()

    def full_disk(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(journal_module, "_write_durably", full_disk)
    result = await async_modelgates_client.api_keys.create_many(spec_list(3), journal=journal_path)
    assert [type(item.error) for item in result] == [JournalError] * 3
    assert await keys_on_server(async_modelgates_client) == {}


async def test_an_orphan_that_expired_before_the_resume_is_deleted_too(
    async_modelgates_client: AsyncModelGates,
    modelgates_server: LocalServer,
    journal_path: str,
) -> None:
    """The orphan walk lists expired keys: an orphan that expired since is found and deleted."""
    specs = spec_list(2)
    journal = Journal.open(
        journal_path, [fingerprint({"name": s.name, "limit": s.limit}) for s in specs]
    )
    await intent(journal, 0)
    await journal.aclose()
    soon = modelgates_server.clock.now() + timedelta(seconds=30)
    orphan = await async_modelgates_client.api_keys.create("tenant-00000", expires_at=soon)
    modelgates_server.clock.advance(60)  # the orphan has expired when the resume looks
    try:
        result = await async_modelgates_client.api_keys.create_many(specs, journal=journal_path)
    finally:
        modelgates_server.clock.resume()
    assert result.ok
    with pytest.raises(NotFoundError):
        await async_modelgates_client.api_keys.get(orphan.data.hash)
    assert {"i": 0, "orphan": orphan.data.hash} in lines(journal_path)
