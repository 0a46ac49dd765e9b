"""Secrets are never lost: --secret-file / --out exist before the API call, a failed write
prints the secret instead, and a run that created nothing leaves no file behind."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from modelgates_async import KeySpec
from modelgates_async.cli import secrets as secrets_module
from modelgates_async.server import LocalServer
from tests.cli.helpers import WRONG_KEY, Invoke, all_keys, fetch, make_keys


def test_create_with_an_unwritable_secret_file_creates_nothing(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A --secret-file that cannot be created is a usage error (2) and no key is made."""
    target = tmp_path / "no-such-dir" / "secret.jsonl"
    result = invoke("keys", "create", "t", "--secret-file", str(target))
    assert result.exit_code == 2
    assert "Nothing was created" in result.output
    assert all_keys(modelgates_server) == []


def test_rotate_with_an_unwritable_secret_file_changes_nothing(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """rotate with a --secret-file that cannot be created: exit 2, no new key, old key on."""
    [old] = make_keys(modelgates_server, KeySpec("t"))
    target = tmp_path / "no-such-dir" / "secret.jsonl"
    result = invoke("keys", "rotate", old.data.hash, "--secret-file", str(target))
    assert result.exit_code == 2
    assert [key.hash for key in all_keys(modelgates_server)] == [old.data.hash]
    assert not fetch(modelgates_server, old.data.hash).disabled


def test_an_existing_secret_file_is_refused_before_anything_is_sent(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """An existing --secret-file is neither overwritten nor a reason to create a key."""
    target = tmp_path / "secret.jsonl"
    target.write_text("precious\n")
    result = invoke("keys", "create", "t", "--secret-file", str(target))
    assert result.exit_code == 2
    assert target.read_text() == "precious\n"
    assert all_keys(modelgates_server) == []


def test_a_failed_create_leaves_no_secret_file(invoke: Invoke, tmp_path: Path) -> None:
    """When the API refuses, the secrets file opened beforehand is removed again."""
    target = tmp_path / "secret.jsonl"
    result = invoke("keys", "create", "t", "--secret-file", str(target), "--api-key", WRONG_KEY)
    assert result.exit_code == 1
    assert not target.exists()


def test_rotate_whose_secret_cannot_be_written_prints_it(
    invoke: Invoke,
    modelgates_server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If writing the new secret fails, it is printed instead; exit 1 says the key exists."""
    [old] = make_keys(modelgates_server, KeySpec("t"))

    def full_disk(self: secrets_module.SecretsFile, line: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(secrets_module.SecretsFile, "write", full_disk)
    target = tmp_path / "secret.jsonl"
    result = invoke("keys", "rotate", old.data.hash, "--secret-file", str(target), "--json")
    assert result.exit_code == 1
    shown = json.loads(result.stdout)
    [new] = [key for key in all_keys(modelgates_server) if key.hash != old.data.hash]
    assert shown["data"]["hash"] == new.hash
    assert shown["key"].startswith("sk-mg-v1-")
    error = json.loads(result.stderr)["error"]
    assert "was created" in error["message"]
    assert "No space left" in error["message"]
    assert not target.exists()


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_create_whose_secret_cannot_be_written_prints_it_as_a_process(
    modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A real process whose secrets file cannot grow prints the secret and exits 1."""
    target = tmp_path / "secret.jsonl"
    env = {
        **os.environ,
        "MODELGATES_API_KEY": modelgates_server.management_key,
        "MODELGATES_BASE_URL": modelgates_server.base_url,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = ["keys", "create", "t", "--secret-file", str(target)]
    result = subprocess.run(
        [sys.executable, "-m", "modelgates_async.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=_limit_file_size,
    )
    assert result.returncode == 1, result.stderr
    [key] = all_keys(modelgates_server)
    secrets = [
        word
        for word in result.stdout.split()
        if word.startswith("sk-mg-v1-") and "..." not in word  # not the masked label
    ]
    assert len(secrets) == 1
    assert f"The key 't' ({key.hash}) was created" in " ".join(result.stderr.split())
    assert not target.exists()


def test_secret_file_is_private(invoke: Invoke, tmp_path: Path) -> None:
    """The secrets file is mode 0600 and holds the secret that is not on the terminal."""
    target = tmp_path / "s.jsonl"
    result = invoke("keys", "create", "t", "--secret-file", str(target))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["key"] not in result.output
