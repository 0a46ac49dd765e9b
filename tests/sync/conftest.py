"""Fixtures of the sync facade's tests: the generator as a module, a generated fake facade."""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_generator() -> types.ModuleType:
    """``tools/gen_sync.py`` imported as a module."""
    name = "gen_sync"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "gen_sync.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def gen_sync() -> types.ModuleType:
    """The generator module."""
    return load_generator()


@pytest.fixture(scope="session")
def fake_sync(gen_sync: Any) -> types.ModuleType:
    """The facade the generator writes for ``tests.sync.fake_async.AsyncFake``."""
    source = gen_sync.generate(("tests.sync.fake_async", "AsyncFake"))
    module = types.ModuleType("tests.sync.fake_sync")
    module.__file__ = "<generated fake_sync>"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


@pytest.fixture
def fake(fake_sync: Any) -> Iterator[Any]:
    """A generated ``Fake`` sync client, closed after the test."""
    with fake_sync.Fake() as client:
        yield client
