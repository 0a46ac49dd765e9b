"""Ways to run the server: in the current event loop, in a background thread, or blocking."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from modelgates_async._eventloop import new_event_loop, run

from .app import create_app
from .clock import Clock
from .connections import DEFAULT_HEADER_TIMEOUT, GuardedTCPSite
from .errors import ServerConfigError
from .faults import Fault
from .records import KeyRecord
from .state import ServerState

__all__ = ["AsyncLocalServer", "LocalServer", "serve"]

T = TypeVar("T")


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class _ServerHandle:
    """What both runners share: the state, where the server listens, and the clock."""

    host: str
    port: int

    def __init__(self, state: ServerState | None, host: str, state_options: dict[str, Any]) -> None:
        if state is not None and state_options:
            raise TypeError("pass either a ServerState or its options, not both")
        self._owns_state = state is None
        self.state = state if state is not None else ServerState(**state_options)
        self.host = host

    @property
    def url(self) -> str:
        """The root URL, e.g. ``http://127.0.0.1:54321``."""
        return _url(self.host, self.port)

    @property
    def base_url(self) -> str:
        """The API's base URL, ``<url>/api/v1``."""
        return self.url + "/api/v1"

    @property
    def management_key(self) -> str:
        """The management key that ``/keys`` needs.

        Raises ``ServerConfigError`` for a database's key that this process was not given
        (only its hash is kept).
        """
        key = self.state.management_key
        if key is None:
            raise ServerConfigError(
                "management key: this server uses the one kept in its database, known here by "
                "its hash only; pass management_key= to use it from code"
            )
        return key

    @property
    def clock(self) -> Clock:
        """The emulator's clock: ``.set(datetime)``, ``.advance(seconds)``, ``.resume()``."""
        return self.state.clock


class AsyncLocalServer(_ServerHandle):
    """The server in the running event loop, on ``host:port`` (port 0: any free one).

    ``async with AsyncLocalServer() as server:`` starts it (``AppRunner`` + ``TCPSite``) and
    closes it. The controls (``clock``, ``inject_fault``, ``record_usage``, ``reset``) act
    directly on ``state``.
    """

    def __init__(
        self,
        state: ServerState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
        **state_options: Any,
    ) -> None:
        super().__init__(state, host, state_options)
        self._requested_port = port
        self._access_log = access_log
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> AsyncLocalServer:
        """Bind and start answering; return self."""
        if self._runner is not None:
            raise RuntimeError("the server is already running")
        # No access log unless asked: it costs throughput, and clients are measured here.
        logging: dict[str, Any] = {} if self._access_log else {"access_log": None}
        runner = web.AppRunner(
            create_app(self.state),
            handle_signals=False,
            shutdown_timeout=2.0,
            # After an answer to a request whose body never came, wait for the rest no
            # longer than for headers (aiohttp's default is 10 s whatever the guard says).
            lingering_time=self.state.connections.header_timeout,
            **logging,
        )
        await runner.setup()
        try:
            site = GuardedTCPSite(runner, self.host, self._requested_port, self.state.connections)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self

    async def aclose(self) -> None:
        """Stop answering and close connections (and the state, if made here)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        if self._owns_state:
            self.state.close()

    async def __aenter__(self) -> AsyncLocalServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def inject_fault(self, path: str = "*", **options: Any) -> Fault:
        """Queue a fault; see ``ServerState.inject_fault``."""
        return self.state.inject_fault(path, **options)

    def record_usage(self, key_hash: str, amount: float, *, byok: bool = False) -> KeyRecord:
        """Record spend on a key; see ``ServerState.record_usage``."""
        return self.state.record_usage(key_hash, amount, byok=byok)

    def reset(self) -> None:
        """Forget keys, spend, faults and clock changes."""
        self.state.reset()


class LocalServer(_ServerHandle):
    """The server in a background thread with its own event loop, for sync code and tests.

    ``with LocalServer() as server:`` (or ``start()``/``stop()``) binds ``127.0.0.1`` on a free
    port. ``url``, ``base_url`` and ``management_key`` tell clients where to go. The controls
    (``clock``, ``inject_fault``, ``record_usage``, ``reset``) may be called from any thread:
    they run on the server's loop. A server still running at interpreter exit is stopped.
    """

    def __init__(
        self,
        state: ServerState | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: bool = False,
        **state_options: Any,
    ) -> None:
        super().__init__(state, host, state_options)
        self.port = port
        self._access_log = access_log
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalServer:
        """Start the server thread and wait until it answers; return self."""
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        server = AsyncLocalServer(
            self.state, host=self.host, port=self.port, access_log=self._access_log
        )
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(server.start())
            except BaseException as exc:
                failure.append(exc)
                loop.close()
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(server.aclose())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        thread = threading.Thread(target=run, name="modelgates-local-server", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            thread.join()
            raise failure[0]
        self._loop, self._thread = loop, thread
        self.port = server.port
        atexit.register(self.stop)
        return self

    def stop(self) -> None:
        """Stop the server and its thread (and close the state, if made here)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        atexit.unregister(self.stop)
        self._thread = self._loop = None
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        if self._owns_state:
            self.state.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server thread is up."""
        return self._thread is not None

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or threading.current_thread() is thread:
            return fn(*args, **kwargs)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result()

    def inject_fault(
        self,
        path: str = "*",
        *,
        method: str = "*",
        status: int | None = None,
        times: int = 1,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        delay: float = 0.0,
        drop: bool = False,
    ) -> Fault:
        """Queue a fault for the next ``times`` matching requests; see ``ServerState``."""
        return self._call(
            self.state.inject_fault,
            path,
            method=method,
            status=status,
            times=times,
            headers=headers,
            body=body,
            delay=delay,
            drop=drop,
        )

    def record_usage(self, key_hash: str, amount: float, *, byok: bool = False) -> KeyRecord:
        """Record spend on a key now by the emulator's clock; see ``ServerState``."""
        return self._call(self.state.record_usage, key_hash, amount, byok=byok)

    def reset(self) -> None:
        """Forget keys, spend, faults and clock changes."""
        self._call(self.state.reset)


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    management_key: str | None = None,
    db: str | Path | None = None,
    rate_limit: float | None = None,
    *,
    access_log: bool = False,
    clock: Callable[[], datetime] | None = None,
    echo: Callable[[str], None] = print,
    on_started: Callable[[AsyncLocalServer], None] | None = None,
    header_timeout: float = DEFAULT_HEADER_TIMEOUT,
    max_connections: int | None = None,
) -> None:
    """Run a ModelGates server until Ctrl-C or SIGTERM (blocking).

    The management key is ``management_key``, else env ``MODELGATES_MANAGEMENT_KEY``; with
    neither, a new one, printed once — or, with a ``db`` used before, the one kept (as a hash)
    in that database, which a key given must match. ``db`` keeps keys in an SQLite file;
    ``rate_limit`` answers 429 past that many requests a second per key. ``echo`` receives
    the start-up lines; ``on_started`` is called with the running server. Clients get
    ``header_timeout`` seconds to send a request's headers, and at most ``max_connections``
    connections are open at once (default: below the file descriptor limit).

    Raises ``ServerConfigError`` for a port out of range, a ``db`` that cannot be opened or
    is not SQLite, or a key other than the database's; ``OSError`` if the address cannot be
    bound.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ServerConfigError(f"port: {port!r} is not a port number (0-65535; 0: any free one)")
    key = management_key or os.environ.get("MODELGATES_MANAGEMENT_KEY") or None
    state = ServerState(
        management_key=key,
        db=db,
        rate_limit=rate_limit,
        clock=clock,
        header_timeout=header_timeout,
        max_connections=max_connections,
    )

    started = False

    async def main() -> None:
        nonlocal started
        server = AsyncLocalServer(state, host=host, port=port, access_log=access_log)
        await server.start()  # an OSError here (port taken) goes to the caller as is
        started = True
        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        # Not on Windows, nor off the main thread; Ctrl-C still works there.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGTERM, stopped.set)
        where = f"keys in {db}" if db is not None else "keys in memory"
        echo(f"ModelGates local server on {server.url} ({where}); Ctrl-C stops it.")
        echo(f"export MODELGATES_BASE_URL={server.base_url}")
        if state.generated_management_key:
            # The one deliberate print of a secret: nobody else knows this key.
            echo(f"export MODELGATES_API_KEY={state.management_key}")
        elif state.management_key is None:
            echo(f"# MODELGATES_API_KEY: the management key kept in {db} (shown when created)")
        else:
            echo("# MODELGATES_API_KEY: the management key you gave")
        try:
            if on_started is not None:
                on_started(server)
            await stopped.wait()
        finally:
            await server.aclose()

    # _eventloop.run picks the loop outside any `except ImportError`: an error raised while
    # serving is not chained to "No module named 'uvloop'".
    try:
        run(main())
    except KeyboardInterrupt:
        pass
    finally:
        state.close()
        if started:
            echo("ModelGates local server stopped.")
            sys.stdout.flush()
