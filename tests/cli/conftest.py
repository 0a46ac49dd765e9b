"""Fixtures of the CLI tests: `modelgates ARGS` through click's CliRunner."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from modelgates_async.cli import group
from modelgates_async.server import LocalServer
from tests.cli.helpers import Invoke


@pytest.fixture(autouse=True)
def no_config_file(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Point the config file at a path of the test's own (absent unless a test writes it),
    and clear MODELGATES_* from the environment, so the user's own setup never leaks in."""
    for name in ("MODELGATES_API_KEY", "MODELGATES_BASE_URL", "MODELGATES_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    path = tmp_path_factory.mktemp("config") / "config.toml"
    monkeypatch.setenv("MODELGATES_CONFIG", str(path))
    return path


@pytest.fixture
def invoke(modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run `modelgates ARGS` with the server's URL and management key in the environment."""
    monkeypatch.setenv("MODELGATES_API_KEY", modelgates_server.management_key)
    monkeypatch.setenv("MODELGATES_BASE_URL", modelgates_server.base_url)
    runner = CliRunner()

    def run(*args: str, **kwargs: Any) -> Result:
        return runner.invoke(group(), list(args), catch_exceptions=False, **kwargs)

    return run
