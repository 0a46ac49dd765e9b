"""A faithful local ModelGates server (aiohttp.web) for development, tests and benchmarks.

Run it with ``python -m modelgates_async.server`` (or ``modelgates serve``), in code with
``serve()``, in a background thread with ``LocalServer``, or in a running event loop with
``AsyncLocalServer``. It never imports the SDK client: it is a separate layer.

Where things live: ``app`` (routes and handlers), ``validation`` (request rules), ``auth``,
``middleware`` (faults, rate limit, error shape), ``connections`` (header deadline,
connection cap), ``state`` (one server's state and Python controls), ``control`` (the
``/_emulator/`` endpoints), ``store`` (the interface) with ``memory_store`` and
``sqlite_store``, ``paging`` (resuming list walks), ``records``, ``render``, ``usage``,
``clock``, ``faults``, ``ratelimit``, ``redact``, ``runner`` (ways to run it).

What it defends against, being a local server and not an internet-facing one: secrets never
in logs or answers (keys and the external API key stored as SHA-256), request headers and
bodies that take longer than ``header_timeout`` (408), more than ``max_connections`` open
connections (503), bodies over 1 MiB (413), strings that are not valid Unicode (400), and an
optional per-key rate limit. It has no TLS and no protection against a flood of fast clients.
"""

from __future__ import annotations

from modelgates_async._eventloop import new_event_loop

from .app import MAX_BODY_BYTES, PAGE_SIZE, STATE_KEY, create_app
from .clock import Clock, utc_now
from .connections import DEFAULT_HEADER_TIMEOUT, ConnectionGuard
from .errors import ServerConfigError
from .faults import Fault, FaultInjector
from .memory_store import MemoryStore
from .ratelimit import RateLimiter
from .records import DEFAULT_WORKSPACE_ID, KEY_PREFIX, KeyRecord, hash_secret, mask_secret
from .runner import AsyncLocalServer, LocalServer, serve
from .sqlite_store import SQLiteStore
from .state import ServerState
from .store import Store
from .usage import UsageTotals

__all__ = [
    "DEFAULT_HEADER_TIMEOUT",
    "DEFAULT_WORKSPACE_ID",
    "KEY_PREFIX",
    "MAX_BODY_BYTES",
    "PAGE_SIZE",
    "STATE_KEY",
    "AsyncLocalServer",
    "Clock",
    "ConnectionGuard",
    "Fault",
    "FaultInjector",
    "KeyRecord",
    "LocalServer",
    "MemoryStore",
    "RateLimiter",
    "SQLiteStore",
    "ServerConfigError",
    "ServerState",
    "Store",
    "UsageTotals",
    "create_app",
    "hash_secret",
    "mask_secret",
    "new_event_loop",
    "serve",
    "utc_now",
]
