"""Helpers of the Redis tests: skip (or, under CI=true, fail) when Redis cannot be had."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

from benchmarks.redis_server import RedisServer, free_port

__all__ = ["RedisServer", "free_port", "import_or_require", "require"]

_NO_SKIP = os.environ.get("CI", "").lower() == "true"


def require(condition: bool, reason: str) -> None:
    """Skip the test with ``reason`` unless ``condition`` — fail instead when CI=true."""
    if condition:
        return
    if _NO_SKIP:
        pytest.fail(f"{reason} (CI=true: Redis tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def import_or_require(name: str) -> ModuleType:
    """Import ``name`` (a module needing redis-py), or skip the module — fail under CI=true."""
    try:
        return importlib.import_module(name)
    except ImportError:
        reason = f"{name} needs the redis package (pip install '.[redis]')"
        if _NO_SKIP:
            pytest.fail(f"{reason} (CI=true: Redis tests must run, not skip)", pytrace=False)
        pytest.skip(reason, allow_module_level=True)
