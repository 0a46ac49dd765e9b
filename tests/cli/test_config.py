"""Profiles in config.toml: choosing one, where the key comes from, and refusing a key in a
file that others can read."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from modelgates_async import KeySpec
from modelgates_async.cli import group
from modelgates_async.cli.config import config_path
from modelgates_async.server import LocalServer
from tests.cli.helpers import WRONG_KEY, make_keys
from tests.helpers import ThreadedServer

FAILING_COMMAND = shlex.join([sys.executable, "-c", "raise SystemExit(3)"])


def modelgates(*args: str) -> Result:
    """`modelgates ARGS` with only the config file to say where to go."""
    return CliRunner().invoke(group(), list(args), catch_exceptions=False)


def write_config(path: Path, text: str, mode: int = 0o600) -> None:
    """Write the config file with the given permissions."""
    path.write_text(text)
    path.chmod(mode)


@pytest.fixture
def one_key(modelgates_server: LocalServer) -> str:
    """The server holds one key; its hash."""
    return make_keys(modelgates_server, KeySpec("profiled"))[0].data.hash


def listed_hashes(result: Result) -> list[str]:
    """The hashes a `keys list --json` run printed."""
    assert result.exit_code == 0, result.output
    return [key["hash"] for key in json.loads(result.stdout)]


def test_a_profile_with_api_key_env(
    no_config_file: Path,
    modelgates_server: LocalServer,
    one_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--profile picks base_url and a key read from the variable api_key_env names."""
    monkeypatch.setenv("LOCAL_MG_KEY", modelgates_server.management_key)
    write_config(
        no_config_file,
        f'[profiles.local]\nbase_url = "{modelgates_server.base_url}"\n'
        'api_key_env = "LOCAL_MG_KEY"\n',
    )
    assert listed_hashes(modelgates("keys", "list", "--json", "--profile", "local")) == [one_key]


def test_the_profile_comes_from_the_environment_or_the_default(
    no_config_file: Path,
    modelgates_server: LocalServer,
    one_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MODELGATES_PROFILE selects a profile; without it, default_profile is used."""
    command = shlex.join([sys.executable, "-c", f"print({modelgates_server.management_key!r})"])
    write_config(
        no_config_file,
        'default_profile = "broken"\n'
        f'[profiles.good]\nbase_url = "{modelgates_server.base_url}"\n'
        f"api_key_command = {json.dumps(command)}\n"
        f'[profiles.broken]\nbase_url = "{modelgates_server.base_url}"\n'
        f'api_key = "{WRONG_KEY}"\n',
    )
    assert modelgates("keys", "list").exit_code == 1  # the default profile's key is wrong
    monkeypatch.setenv("MODELGATES_PROFILE", "good")
    assert listed_hashes(modelgates("keys", "list", "--json")) == [one_key]


def test_options_and_environment_win_over_the_profile(
    no_config_file: Path,
    modelgates_server: LocalServer,
    one_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MODELGATES_API_KEY and --base-url override what the profile says."""
    write_config(
        no_config_file,
        f'[profiles.default]\nbase_url = "http://127.0.0.1:9/api/v1"\napi_key = "{WRONG_KEY}"\n',
    )
    monkeypatch.setenv("MODELGATES_API_KEY", modelgates_server.management_key)
    result = modelgates("keys", "list", "--json", "--base-url", modelgates_server.base_url)
    assert listed_hashes(result) == [one_key]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_in_a_file_others_can_read_is_refused(
    no_config_file: Path, modelgates_server: LocalServer, mode: int
) -> None:
    """api_key in a group- or world-readable file: exit 2, chmod advice, key not echoed."""
    write_config(
        no_config_file,
        f'[profiles.default]\nbase_url = "{modelgates_server.base_url}"\n'
        f'api_key = "{modelgates_server.management_key}"\n',
        mode,
    )
    result = modelgates("keys", "list")
    assert result.exit_code == 2
    assert f"chmod 600 {no_config_file}" in result.output
    assert "api_key_env" in result.output
    assert modelgates_server.management_key not in result.output
    no_config_file.chmod(0o600)
    assert modelgates("keys", "list").exit_code == 0


@pytest.mark.parametrize(
    ("text", "args", "says"),
    [
        ("[profiles.a]\n", ("--profile", "b"), "no profile 'b' (profiles: a)"),
        ("[profiles.a]\nbase_ur = 'x'\n", ("--profile", "a"), "unknown field(s) base_ur"),
        ("[profiles.a\n", ("--profile", "a"), "not valid TOML"),
        (
            "[profiles.a]\napi_key_env = 'MG_NOT_SET_ANYWHERE'\n",
            ("--profile", "a"),
            "$MG_NOT_SET_ANYWHERE, which is not set",
        ),
        (
            f"[profiles.a]\napi_key_command = {json.dumps(FAILING_COMMAND)}\n",
            ("--profile", "a"),
            "api_key_command exited 3",
        ),
    ],
)
def test_a_bad_profile_is_a_usage_error(
    no_config_file: Path, text: str, args: tuple[str, ...], says: str
) -> None:
    """Unknown profile, unknown field, bad TOML, unset variable, failing command: exit 2."""
    write_config(no_config_file, text)
    result = modelgates("keys", "list", *args)
    assert result.exit_code == 2
    assert says in result.output


def test_asking_for_a_profile_without_a_config_file(no_config_file: Path) -> None:
    """--profile with no config file: exit 2 naming where the file was looked for."""
    result = modelgates("keys", "list", "--profile", "work")
    assert result.exit_code == 2
    assert str(no_config_file) in result.output


def test_the_config_file_lives_in_the_xdg_config_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without MODELGATES_CONFIG, the file is $XDG_CONFIG_HOME/modelgates/config.toml."""
    monkeypatch.delenv("MODELGATES_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert config_path() == tmp_path / "modelgates" / "config.toml"
    else:
        assert config_path().name == "config.toml"


class RecordingAPI(ThreadedServer):
    """A server that records each request's path and headers: ``GET /api/v1/keys`` answers
    an empty page, ``GET /stall/api/v1/keys`` answers when the server stops."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, dict[str, str]]] = []
        self._released: asyncio.Event | None = None

    async def _keys(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, dict(request.headers)))
        if request.path.startswith("/stall/"):
            assert self._released is not None
            await self._released.wait()
        return web.json_response({"data": []})

    def routes(self, app: web.Application) -> None:
        self._released = asyncio.Event()
        app.router.add_get("/api/v1/keys", self._keys)
        app.router.add_get("/stall/api/v1/keys", self._keys)

    async def release(self) -> None:
        assert self._released is not None
        self._released.set()


@pytest.fixture
def recording_api() -> Iterator[RecordingAPI]:
    """A local API that records what reaches it."""
    with RecordingAPI() as api:
        yield api


def test_profile_settings_reach_the_wire(no_config_file: Path, recording_api: RecordingAPI) -> None:
    """The profile's base_url, api_key, app_title and http_referer are what the request carries."""
    write_config(
        no_config_file,
        f'[profiles.default]\nbase_url = "{recording_api.base_url}"\n'
        f'api_key = "{WRONG_KEY}"\n'
        'app_title = "Provisioner"\nhttp_referer = "https://example.com"\n',
    )
    assert listed_hashes(modelgates("keys", "list", "--json")) == []
    assert recording_api.seen
    for path, headers in recording_api.seen:
        assert path == "/api/v1/keys"
        assert headers["Authorization"] == f"Bearer {WRONG_KEY}"
        assert headers["X-ModelGates-Title"] == "Provisioner"
        assert headers["HTTP-Referer"] == "https://example.com"


def test_the_profile_timeout_bounds_each_attempt(
    no_config_file: Path, recording_api: RecordingAPI, modelgates_no_backoff: list[float]
) -> None:
    """A profile's timeout is the time each attempt may take: a stalled API times out."""
    write_config(
        no_config_file,
        f'[profiles.default]\nbase_url = "{recording_api.base_url.replace("/api", "/stall/api")}"\n'
        f'api_key = "{WRONG_KEY}"\ntimeout = 0.05\n',
    )
    result = modelgates("keys", "list")
    assert result.exit_code == 1
    assert "timed out after 0.05s" in result.output
    assert recording_api.seen  # the request did reach the API
