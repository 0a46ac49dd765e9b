"""The private loop: threads, running loops, the loop's own thread, Ctrl-C, generators,
closing, tracebacks. Run against a generated facade of a network-free fake client."""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from modelgates_async import ModelGatesError
from modelgates_async import _loop as loop_module
from tests.helpers import ctrl_c_once

pytestmark = pytest.mark.filterwarnings("error")


def test_calls_run_on_one_private_loop_thread(fake: Any) -> None:
    """Every call runs on the same daemon thread, never on the caller's thread."""
    ids = {fake.items.thread_id() for _ in range(3)}
    assert ids == {loop_module.loop_thread_id()}
    assert threading.get_ident() not in ids
    loop_thread = next(t for t in threading.enumerate() if t.ident in ids)
    assert loop_thread.daemon


def test_arguments_and_results_pass_through(fake: Any) -> None:
    """Positional-only, default, *args and **kwargs arguments reach the coroutine."""
    assert fake.items.echo(2, 3, 1, 1, a="x") == 9
    assert fake.items.pick("s") == "s"
    assert fake.items.describe() == "items"


def test_many_threads_share_one_client(fake: Any) -> None:
    """8 threads × 100 calls on one client all get their own answers."""

    def work(n: int) -> list[int]:
        return [fake.items.echo(n, i) for i in range(100)]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert results == [[n * i for i in range(100)] for n in range(8)]


async def test_works_inside_a_running_event_loop(fake: Any) -> None:
    """A sync call from a coroutine (an async app calling sync code) does not deadlock."""
    assert asyncio.get_running_loop() is not None
    assert fake.items.echo(4, delay=0.001) == 4
    assert list(fake.items.count(3)) == [0, 1, 2]


def test_call_from_the_loop_thread_raises(fake: Any) -> None:
    """A facade call made on the facade's own loop thread raises instead of hanging."""
    with pytest.raises(RuntimeError, match="own event-loop thread"):
        fake.items.call(lambda: fake.items.echo(1))


def test_same_exception_class_and_a_traceback_from_the_call(fake: Any) -> None:
    """The coroutine's exception is re-raised as is; the traceback starts at the caller's
    line and ends where the fake raised, without asyncio frames."""
    with pytest.raises(ValueError, match="boom") as info:
        fake.items.fail("boom")
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[0].name == "test_same_exception_class_and_a_traceback_from_the_call"
    assert frames[-1].name == "fail"
    assert frames[-1].filename.endswith("fake_async.py")
    assert not any("asyncio" in frame.filename for frame in frames)
    assert sum(frame.filename == loop_module.__file__ for frame in frames) == 1  # run()


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX signals")
def test_ctrl_c_cancels_the_coroutine_and_reraises(fake: Any) -> None:
    """KeyboardInterrupt during a call cancels the coroutine on the loop, then re-raises."""
    assert threading.current_thread() is threading.main_thread()
    probe = fake.probe
    with ctrl_c_once(probe.entered), pytest.raises(KeyboardInterrupt):
        fake.items.block()
    assert probe.cancelled.is_set()  # run() waits for the cancellation before re-raising
    assert fake.items.echo(5) == 5  # the client still works


def test_generator_pulls_items_lazily(fake: Any) -> None:
    """iter-style methods return plain generators fed one item at a time by the loop."""
    generator = fake.items.count(3)
    assert isinstance(generator, Iterator)
    assert next(generator) == 0
    assert list(generator) == [1, 2]
    assert list(fake.items.numbers(2)) == [0, 1]
    assert fake.probe.generator_closed[0] == (3, loop_module.loop_thread_id())


def test_closed_generator_closes_the_async_generator(fake: Any) -> None:
    """A generator closed halfway closes its async generator on the loop (aclose)."""
    generator = fake.items.count(10)
    assert [next(generator), next(generator)] == [0, 1]
    generator.close()
    assert fake.probe.generator_closed == [(1, loop_module.loop_thread_id())]


def test_collected_generator_closes_the_async_generator(fake: Any) -> None:
    """A generator dropped halfway is closed on the loop when collected, without warnings."""
    generator = fake.items.count(10)
    next(generator)
    del generator
    gc.collect()
    assert fake.probe.generator_closed == [(0, loop_module.loop_thread_id())]


def test_close_frees_the_client_and_later_calls_raise(fake_sync: Any) -> None:
    """close() runs aclose once; later calls and generators raise a clear error."""
    client = fake_sync.Fake()
    generator = client.items.count(5)
    assert next(generator) == 0
    client.close()
    client.close()
    assert client.closed
    assert client.probe.aclosed == 1
    with pytest.raises(ModelGatesError, match="This Fake client is closed"):
        client.items.echo(1)
    with pytest.raises(ModelGatesError, match="closed"):
        next(generator)
    with pytest.raises(ModelGatesError, match="closed"), client:
        pass


def test_with_block_closes_the_client(fake_sync: Any) -> None:
    """Leaving `with` closes the client, also when the block raised."""
    with pytest.raises(ValueError, match="x"), fake_sync.Fake() as client:
        raise ValueError("x")
    assert client.closed
    assert client.probe.aclosed == 1


def test_collected_client_is_closed_on_the_loop(fake_sync: Any) -> None:
    """A client dropped without close() is closed by its finalizer, without blocking."""
    client = fake_sync.Fake()
    probe = client.probe
    assert client.items.echo(1) == 1
    del client
    gc.collect()
    fake_sync.Fake().close()  # one more round trip: the scheduled close has run by now
    assert probe.aclosed == 1


def test_close_from_a_loop_callback_does_not_wait(fake_sync: Any) -> None:
    """close() called on the loop thread schedules the close instead of deadlocking."""
    client = fake_sync.Fake()
    client.items.call(client.close)
    fake_sync.Fake().close()  # one more round trip: the scheduled close has run by now
    assert client.closed
    assert client.probe.aclosed == 1
    with pytest.raises(ModelGatesError, match="closed"):
        client.items.echo(1)


def test_runtime_refuses_work_after_shutdown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once shut down (interpreter exit), starting the loop again raises a clear error."""
    fresh = loop_module._Runtime()
    fresh.shut_down = True
    monkeypatch.setattr(loop_module, "_runtime", fresh)

    async def nothing() -> None:
        return None

    with pytest.raises(ModelGatesError, match="shut down"):
        loop_module.run(nothing())


def test_keyboard_interrupt_raised_by_the_coroutine_reaches_the_caller(fake: Any) -> None:
    """A BaseException raised inside the coroutine is handed over; the loop keeps running."""

    def raise_system_exit() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        fake.items.call(raise_system_exit)
    assert fake.items.echo(2) == 2


if sys.platform == "win32":  # pragma: no cover
    pytestmark = [pytestmark, pytest.mark.skip("POSIX runtime tests")]
