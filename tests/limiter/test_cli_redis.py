"""`modelgates keys bulk-create --redis URL`: the CLI's client shares its limiter through a real
redis-server (from --redis, $MODELGATES_REDIS_URL or the profile), goes on alone when Redis is
unreachable, and says how to get the redis extra when it is missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from modelgates_async.cli import group
from modelgates_async.cli.shared_limit import REDIS_KEY_ENV, REDIS_URL_ENV
from modelgates_async.server import LocalServer

from .helpers import RedisServer, free_port, import_or_require

ROWS = 5


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config file of the test's own (absent unless written) and no MODELGATES_* leaking in."""
    for name in ("MODELGATES_PROFILE", REDIS_URL_ENV, REDIS_KEY_ENV, "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "config.toml"
    monkeypatch.setenv("MODELGATES_CONFIG", str(path))
    return path


@pytest.fixture
def modelgates(
    modelgates_server: LocalServer, monkeypatch: pytest.MonkeyPatch, config_file: Path
) -> Any:
    """Run `modelgates ARGS` in-process against the local server."""
    monkeypatch.setenv("MODELGATES_API_KEY", modelgates_server.management_key)
    monkeypatch.setenv("MODELGATES_BASE_URL", modelgates_server.base_url)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(group(), list(args), catch_exceptions=False)

    return run


@pytest.fixture
def tenants(tmp_path: Path) -> Path:
    """A CSV file of ROWS keys to create."""
    path = tmp_path / "tenants.csv"
    lines = ["name,limit", *(f"tenant-{i},{i + 1}" for i in range(ROWS))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def shared_state(url: str, key: str = "modelgates") -> tuple[dict[str, str], int]:
    """A key's shared state in Redis (the default key's unless told): the state hash, and the
    leases still held."""
    redis = import_or_require("redis")
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return client.hgetall(f"{{{key}}}:state"), client.zcard(f"{{{key}}}:leases")
    finally:
        client.close()


@pytest.mark.parametrize("source", ["option", "environment", "profile"])
def test_bulk_create_shares_its_limiter_through_redis(
    modelgates: Any,
    own_redis: RedisServer,
    tenants: Path,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    """Every create takes a slot of the shared state in Redis, and gives it back; the job
    ends with one secret per line, whichever of --redis, the variable or the profile names it."""
    args = ["keys", "bulk-create", str(tenants), "--json"]
    if source == "option":
        args += ["--redis", own_redis.url]
    elif source == "environment":
        monkeypatch.setenv(REDIS_URL_ENV, own_redis.url)
    else:
        config_file.write_text(f'[profiles.default]\nredis_url = "{own_redis.url}"\n')
    result = modelgates(*args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == ROWS
    secrets = tenants.with_name("tenants.secrets.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["name"] for line in secrets) == [
        f"tenant-{i}" for i in range(ROWS)
    ]
    state, leases_held = shared_state(own_redis.url)
    assert int(state["grants"]) == ROWS
    assert leases_held == 0


def test_apply_shares_its_limiter_through_redis(
    modelgates: Any, own_redis: RedisServer, tmp_path: Path
) -> None:
    """`apply --redis URL`: every create of the plan takes and gives back a shared slot."""
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("".join(f"- {{name: fleet-{i}, limit: 5}}\n" for i in range(ROWS)))
    result = modelgates("apply", str(fleet), "--yes", "--redis", own_redis.url)
    assert result.exit_code == 0, result.output
    state, leases_held = shared_state(own_redis.url)
    assert int(state["grants"]) >= ROWS  # the listing of the plan takes slots too
    assert leases_held == 0
    again = modelgates("apply", str(fleet), "--yes", "--redis", own_redis.url)
    assert "No changes." in again.output


def test_without_redis_the_client_keeps_its_own_limiter(
    modelgates: Any, own_redis: RedisServer, tenants: Path
) -> None:
    """Neither --redis nor the variable nor a profile: nothing is written to any Redis."""
    result = modelgates("keys", "bulk-create", str(tenants))
    assert result.exit_code == 0, result.output
    assert shared_state(own_redis.url) == ({}, 0)


@pytest.mark.parametrize(
    ("how", "named"),
    [("option", "--redis"), ("environment", REDIS_URL_ENV)],
)
def test_without_the_redis_extra_a_url_is_a_usage_error(
    modelgates: Any,
    tenants: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    named: str,
) -> None:
    """No redis-py: exit 2 naming where the URL came from and the pip command; nothing sent."""
    monkeypatch.setitem(sys.modules, "modelgates_async.redis", None)  # import fails
    args = ["keys", "bulk-create", str(tenants)]
    if how == "option":
        args += ["--redis", "redis://127.0.0.1:1/0"]
    else:
        monkeypatch.setenv(REDIS_URL_ENV, "redis://127.0.0.1:1/0")
    result = modelgates(*args)
    assert result.exit_code == 2, result.output
    assert named in result.stderr
    assert "pip install 'modelgates-async[redis]'" in result.stderr
    assert not tenants.with_name("tenants.secrets.jsonl").exists()


def test_a_url_without_a_scheme_is_a_usage_error(modelgates: Any, tenants: Path) -> None:
    """`--redis host:6379` is refused before anything is sent, without echoing the URL."""
    import_or_require("modelgates_async.redis")
    result = modelgates("keys", "bulk-create", str(tenants), "--redis", "secret@host:6379")
    assert result.exit_code == 2, result.output
    assert "--redis must be a Redis URL such as redis://localhost:6379/0" in result.stderr
    assert "secret" not in result.stderr
    assert not tenants.with_name("tenants.secrets.jsonl").exists()


def test_an_unreachable_redis_still_finishes_the_job_with_one_warning(
    modelgates: Any, tenants: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """--redis naming a port where nothing listens: every key is made, and one WARNING says
    the run went on with its own limiter."""
    import_or_require("modelgates_async.redis")
    result = modelgates(
        "keys", "bulk-create", str(tenants), "--redis", f"redis://127.0.0.1:{free_port()}/0"
    )
    assert result.exit_code == 0, result.output
    assert len(tenants.with_name("tenants.secrets.jsonl").read_text().splitlines()) == ROWS
    warnings = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelname == "WARNING"


@pytest.mark.parametrize("source", ["option", "environment", "profile"])
def test_the_shared_state_is_under_the_key_chosen(
    modelgates: Any,
    own_redis: RedisServer,
    tenants: Path,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    """--redis-key, $MODELGATES_REDIS_KEY or the profile's redis_key names the shared state:
    the creates take their slots there, and the default key is left alone."""
    args = ["keys", "bulk-create", str(tenants), "--redis", own_redis.url]
    if source == "option":
        args += ["--redis-key", "east"]
    elif source == "environment":
        monkeypatch.setenv(REDIS_KEY_ENV, "east")
    else:
        config_file.write_text('[profiles.default]\nredis_key = "east"\n')
    result = modelgates(*args)
    assert result.exit_code == 0, result.output
    state, leases_held = shared_state(own_redis.url, "east")
    assert int(state["grants"]) == ROWS
    assert leases_held == 0
    assert shared_state(own_redis.url) == ({}, 0)


def test_a_redis_key_without_a_redis_is_a_usage_error(modelgates: Any, tenants: Path) -> None:
    """--redis-key alone would share nothing: exit 2 saying what is missing; nothing sent."""
    result = modelgates("keys", "bulk-create", str(tenants), "--redis-key", "east")
    assert result.exit_code == 2, result.output
    assert "no Redis is given: add --redis URL" in result.stderr
    assert not tenants.with_name("tenants.secrets.jsonl").exists()


def test_a_key_with_braces_is_a_usage_error(modelgates: Any, tenants: Path) -> None:
    """A key Redis Cluster would read as a hash tag is refused before anything is sent."""
    import_or_require("modelgates_async.redis")
    result = modelgates(
        "keys",
        "bulk-create",
        str(tenants),
        "--redis",
        "redis://127.0.0.1:1/0",
        "--redis-key",
        "{east}",
    )
    assert result.exit_code == 2, result.output
    assert "--redis-key must be a non-empty name without braces" in result.stderr
    assert not tenants.with_name("tenants.secrets.jsonl").exists()


def test_the_cli_reads_the_variable_the_library_names() -> None:
    """The CLI's copy of the variable's name (read without redis-py) is the library's."""
    redis_module = import_or_require("modelgates_async.redis")
    assert redis_module.REDIS_URL_ENV == REDIS_URL_ENV
