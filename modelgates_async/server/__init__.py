"""A faithful local ModelGates server (aiohttp.web) for development, tests and benchmarks.

Run it with ``python -m modelgates_async.server`` (or ``modelgates serve``), in code with
``serve()``, in a background thread with ``LocalServer``, or in a running event loop with
``AsyncLocalServer``. It never imports the SDK client: it is a separate layer.
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
