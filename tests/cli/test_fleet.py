"""`modelgates plan` / `apply` end to end against the local server: create, update with a
field diff, prune, no-op re-apply, ambiguity errors, the JSON shape and the table."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from modelgates_async import CreatedKey, KeySpec
from modelgates_async.cli import progress
from modelgates_async.cli.apply_run import SecretsAppender
from modelgates_async.models import APIKey
from modelgates_async.server import LocalServer
from tests.cli.helpers import Invoke, all_keys, make_keys

FLEET = """\
defaults:
  limit_reset: monthly
keys:
  - name: tenant-1
    limit: 50
  - name: tenant-2
    limit: 10
    include_byok_in_limit: true
  - name: tenant-3
    limit: 25
    disabled: true
"""


def write(tmp_path: Path, text: str, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def by_name(server: LocalServer) -> dict[str, APIKey]:
    keys = all_keys(server)
    assert len({key.name for key in keys}) == len(keys)
    return {key.name: key for key in keys}


def secrets_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_apply_creates_the_keys_of_the_file_and_keeps_their_secrets(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """apply --yes creates every key with its fields (defaults merged, disabled honoured)
    and appends their secrets to a 0600 file, never to the terminal."""
    fleet = write(tmp_path, FLEET)
    result = invoke("apply", str(fleet), "--yes")
    assert result.exit_code == 0, result.output
    assert "Plan: 3 to create, 0 to update, 0 to disable, 0 to delete" in result.output
    assert "Apply complete: 3 created" in result.output
    keys = by_name(modelgates_server)
    assert sorted(keys) == ["tenant-1", "tenant-2", "tenant-3"]
    assert keys["tenant-1"].limit == 50
    assert keys["tenant-1"].limit_reset is not None
    assert keys["tenant-2"].include_byok_in_limit is True
    assert [keys[n].disabled for n in sorted(keys)] == [False, False, True]
    secrets_path = tmp_path / "fleet.secrets.jsonl"
    assert stat.S_IMODE(os.stat(secrets_path).st_mode) == 0o600
    lines = secrets_of(secrets_path)
    assert {line["hash"] for line in lines} == {key.hash for key in keys.values()}
    assert not any(line["key"] in result.output for line in lines)
    assert not list(tmp_path.glob("*.apply-*")), "no pending state is left behind"


def test_a_second_apply_reports_no_changes_and_exits_0(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """Applying the same FILE again changes nothing, says "No changes." and exits 0."""
    fleet = write(tmp_path, FLEET)
    assert invoke("apply", str(fleet), "--yes").exit_code == 0
    before = {key.hash: key.updated_at for key in all_keys(modelgates_server)}
    again = invoke("apply", str(fleet))  # no --yes: nothing to ask about
    assert again.exit_code == 0, again.output
    assert "No changes. 3 key(s) already match the file." in again.output
    assert {key.hash: key.updated_at for key in all_keys(modelgates_server)} == before


def test_plan_shows_a_field_diff_and_apply_makes_it(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live key that differs is planned as an update listing each field old → new;
    plan changes nothing, apply makes exactly those changes."""
    monkeypatch.setenv("COLUMNS", "120")
    (old,) = make_keys(modelgates_server, KeySpec("tenant-2", limit=5, limit_reset="weekly"))
    fleet = write(tmp_path, FLEET)
    plan = invoke("plan", str(fleet))
    assert plan.exit_code == 0, plan.output
    assert "limit: $5.00 → $10.00" in plan.output
    assert "limit_reset: weekly → monthly" in plan.output
    assert "include_byok_in_limit: no → yes" in plan.output
    assert old.data.hash[:8] in plan.output
    assert "Plan: 2 to create, 1 to update, 0 to disable, 0 to delete (0 unchanged)." in (
        plan.output
    )
    assert by_name(modelgates_server)["tenant-2"].limit == 5  # plan changed nothing
    applied = invoke("apply", str(fleet), "--yes")
    assert applied.exit_code == 0, applied.output
    key = by_name(modelgates_server)["tenant-2"]
    assert (key.hash, key.limit, key.include_byok_in_limit) == (old.data.hash, 10, True)
    assert "tenant-2" not in {line["name"] for line in secrets_of(tmp_path / "fleet.secrets.jsonl")}


def test_a_re_enabled_entry_is_planned_as_an_update(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """An entry without `disabled` wants an enabled key: a disabled live key is enabled."""
    fleet = write(tmp_path, "- name: solo\n")
    make_keys(modelgates_server, KeySpec("solo"))
    key_hash = all_keys(modelgates_server)[0].hash
    assert invoke("keys", "disable", key_hash).exit_code == 0
    result = invoke("apply", str(fleet), "--yes")
    assert result.exit_code == 0, result.output
    assert "disabled: yes → no" in result.output
    assert not by_name(modelgates_server)["solo"].disabled


@pytest.mark.parametrize("mode", ["disable", "delete"])
def test_prune_disables_or_deletes_the_keys_the_file_does_not_name(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, mode: str
) -> None:
    """Without --prune strays are left alone; --prune disables them, --prune=delete
    deletes them; the keys FILE names are kept."""
    make_keys(modelgates_server, KeySpec("stray-1"), KeySpec("stray-2"))
    fleet = write(tmp_path, FLEET)
    assert invoke("apply", str(fleet), "--yes").exit_code == 0
    assert len(all_keys(modelgates_server)) == 5  # strays untouched without --prune
    option = "--prune" if mode == "disable" else "--prune=delete"
    result = invoke("apply", str(fleet), option, "--yes")
    assert result.exit_code == 0, result.output
    assert f"Plan: 0 to create, 0 to update, {2 if mode == 'disable' else 0} to disable" in (
        result.output
    )
    keys = by_name(modelgates_server)
    if mode == "disable":
        assert keys["stray-1"].disabled
        assert keys["stray-2"].disabled
        assert not keys["tenant-1"].disabled
        assert "No changes." in invoke("plan", str(fleet), "--prune").output
    else:
        assert sorted(keys) == ["tenant-1", "tenant-2", "tenant-3"]


def test_declining_the_question_changes_nothing_and_exits_0(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """Answering no at apply's question sends nothing and exits 0, as the CLI documents."""
    fleet = write(tmp_path, FLEET)
    result = invoke("apply", str(fleet), input="n\n")
    assert result.exit_code == 0, result.output
    assert "Apply these changes?" in result.output
    assert "Nothing was changed." in result.output
    assert all_keys(modelgates_server) == []


def test_duplicate_names_in_the_file_are_an_error_listing_their_lines(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A name given twice in one workspace is a usage error naming both lines; nothing sent."""
    fleet = write(tmp_path, "- name: a\n- name: b\n- name: a\n  limit: 3\n")
    result = invoke("apply", str(fleet), "--yes")
    assert result.exit_code == 2
    assert "lines 1, 3: the name 'a' is given 2 times" in result.output
    assert all_keys(modelgates_server) == []


def test_several_live_keys_with_one_name_are_an_error_listing_them(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """When FILE names a key that matches two live keys, the plan refuses to guess and
    lists both hashes (exit 2); nothing is changed."""
    twins = make_keys(modelgates_server, KeySpec("twin", limit=1), KeySpec("twin", limit=2))
    fleet = write(tmp_path, "- name: twin\n  limit: 9\n- name: other\n")
    for command in ("plan", "apply"):
        result = invoke(command, str(fleet), "--yes" if command == "apply" else "--json")
        assert result.exit_code == 2, result.output
        assert "2 live keys are named 'twin'" in result.output
        assert all(twin.data.hash in result.output for twin in twins)
    assert sorted(key.limit or 0 for key in all_keys(modelgates_server)) == [1, 2]


def test_the_json_plan_lists_every_change_with_raw_values(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """plan --json: a summary of counts, creates with their fields, updates with old/new
    per field, prunes by hash, warnings, and the pending creates count."""
    (old,) = make_keys(modelgates_server, KeySpec("tenant-1", limit=1))
    (stray,) = make_keys(modelgates_server, KeySpec("stray"))
    fleet = write(tmp_path, FLEET)
    result = invoke("plan", str(fleet), "--prune=delete", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["summary"] == {"create": 2, "update": 1, "disable": 0, "delete": 1, "unchanged": 0}
    assert [item["name"] for item in data["create"]] == ["tenant-2", "tenant-3"]
    assert data["create"][1]["fields"] == {
        "limit_reset": "monthly",
        "limit": 25.0,
        "disabled": True,
    }
    assert data["create"][1]["line"] == 9
    (update,) = data["update"]
    assert update["hash"] == old.data.hash
    assert update["changes"] == {
        "limit": {"old": 1.0, "new": 50.0},
        "limit_reset": {"old": None, "new": "monthly"},
    }
    assert data["delete"] == [
        {"name": "stray", "hash": stray.data.hash, "workspace_id": stray.data.workspace_id}
    ]
    assert data["disable"] == []
    assert data["warnings"] == []
    assert data["pending_creates"] == 0


def test_a_create_only_field_that_differs_is_a_warning_not_a_change(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """expires_at cannot be updated: a live key that differs is left as it is and the
    plan warns, naming the line and the field."""
    make_keys(modelgates_server, KeySpec("k", expires_at="2031-01-01T00:00:00Z"))
    fleet = write(tmp_path, "- name: k\n  expires_at: '2032-01-01T00:00:00Z'\n")
    result = invoke("plan", str(fleet))
    assert result.exit_code == 0, result.output
    assert "Warning: line 1: 'k'" in result.output
    assert "expires_at" in result.output
    assert "No changes." in result.output


def test_csv_and_jsonl_files_plan_like_yaml(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """The same keys written as CSV or JSONL give the same plan as the YAML file."""
    csv_file = write(
        tmp_path,
        "name,limit,limit_reset,include_byok_in_limit,disabled\n"
        "tenant-1,50,monthly,,\ntenant-2,10,monthly,true,\ntenant-3,25,monthly,,yes\n",
        "fleet.csv",
    )
    jsonl_file = write(
        tmp_path,
        "\n".join(
            json.dumps(entry)
            for entry in [
                {"name": "tenant-1", "limit": 50, "limit_reset": "monthly"},
                {
                    "name": "tenant-2",
                    "limit": 10,
                    "limit_reset": "monthly",
                    "include_byok_in_limit": True,
                },
                {"name": "tenant-3", "limit": 25, "limit_reset": "monthly", "disabled": True},
            ]
        ),
        "fleet.jsonl",
    )
    yaml_plan = json.loads(invoke("plan", str(write(tmp_path, FLEET)), "--json").output)
    for other in (csv_file, jsonl_file):
        data = json.loads(invoke("plan", str(other), "--json").output)
        assert [c["fields"] for c in data["create"]] == [c["fields"] for c in yaml_plan["create"]]
    assert invoke("apply", str(csv_file), "--yes").exit_code == 0
    assert "No changes." in invoke("plan", str(jsonl_file)).output


def test_out_and_show_secrets(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """--out chooses the secrets file; --show-secrets also prints each new secret."""
    fleet = write(tmp_path, "- name: one\n")
    out = tmp_path / "elsewhere.jsonl"
    result = invoke("apply", str(fleet), "--yes", "--out", str(out), "--show-secrets")
    assert result.exit_code == 0, result.output
    (line,) = secrets_of(out)
    assert line["key"] in result.output
    assert not (tmp_path / "fleet.secrets.jsonl").exists()


@pytest.mark.parametrize("width", [80, 120])
def test_the_plan_table_fits_the_terminal_and_keeps_hashes_whole(
    invoke: Invoke,
    modelgates_server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    width: int,
) -> None:
    """At 80 and 120 columns no line of the plan is wider than the terminal, and each
    key's hash prefix is printed whole (never cut with "…")."""
    monkeypatch.setenv("COLUMNS", str(width))
    made = make_keys(
        modelgates_server,
        KeySpec("a-tenant-with-a-rather-long-name-for-a-narrow-terminal", limit=1),
        KeySpec("stray-key-that-the-file-does-not-name"),
    )
    fleet = write(
        tmp_path,
        "defaults: {limit_reset: weekly, include_byok_in_limit: true}\nkeys:\n"
        "  - {name: a-tenant-with-a-rather-long-name-for-a-narrow-terminal, limit: 2000}\n"
        "  - {name: new-one, limit: 3, expires_at: '2031-06-01T12:00:00Z', disabled: true}\n",
    )
    result = invoke("plan", str(fleet), "--prune")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= width
    for created in made:
        assert created.data.hash[:8] in result.output
    assert "$1.00 → $2,000.00" in result.output.replace("\n", "")
    assert "Plan: 1 to create, 1 to update, 1 to disable, 0 to delete" in result.output


def test_a_bare_prune_before_file_does_not_swallow_it(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """`plan --prune FILE` prunes by disabling (FILE is not taken as --prune's value), and
    `--prune delete FILE` is the same as `--prune=delete FILE`."""
    make_keys(modelgates_server, KeySpec("stray"))
    fleet = write(tmp_path, "- name: kept\n")
    disable = invoke("plan", "--prune", str(fleet))
    assert disable.exit_code == 0, disable.output
    assert "1 to disable, 0 to delete" in disable.output
    delete = invoke("plan", "--prune", "delete", str(fleet))
    assert "0 to disable, 1 to delete" in delete.output


def test_apply_json_reports_the_plan_and_what_was_done(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """apply --json prints one object: the plan, whether it was declined, and the result
    (counts, the new keys without secrets, the secrets file, errors)."""
    fleet = write(tmp_path, FLEET)
    result = invoke("apply", str(fleet), "--yes", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["plan"]["summary"]["create"] == 3
    assert data["declined"] is False
    outcome = data["result"]
    assert (outcome["created"], outcome["updated"], outcome["errors"]) == (3, 0, [])
    assert outcome["secrets_file"] == str(tmp_path / "fleet.secrets.jsonl")
    assert sorted(key["name"] for key in outcome["keys"]) == ["tenant-1", "tenant-2", "tenant-3"]
    assert all("key" not in key for key in outcome["keys"])


def test_external_user_is_set_when_a_key_is_created(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """external_user reaches create(); a live key with another one keeps it (a warning), and
    a blank one is a problem of FILE (exit 2, nothing sent)."""
    blank = write(tmp_path, "- name: ext\n  external_user: '  '\n", "blank.yaml")
    refused = invoke("plan", str(blank))
    assert refused.exit_code == 2
    assert "line 1: external_user" in refused.output
    fleet = write(tmp_path, "- name: ext\n  external_user: user-42\n")
    result = invoke("apply", str(fleet), "--yes")
    assert result.exit_code == 0, result.output
    assert by_name(modelgates_server)["ext"].external_user == "user-42"
    fleet.write_text("- name: ext\n  external_user: user-43\n", encoding="utf-8")
    again = invoke("plan", str(fleet))
    assert "external_user, which can only be set when a key is created" in again.output
    assert "No changes." in again.output


def test_apply_draws_progress_on_a_terminal_only(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal apply draws the listing and a bar with count, rate and time left on
    stderr; on a pipe stderr stays empty."""
    fleet = write(tmp_path, FLEET)
    piped = invoke("plan", str(fleet))
    assert piped.exit_code == 0
    assert piped.stderr == ""
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    result = invoke("apply", str(fleet), "--yes")
    assert result.exit_code == 0, result.output
    assert "listing the account's keys" in result.stderr
    assert "applying" in result.stderr
    assert "3/3" in result.stderr
    assert "changes/s" in result.stderr


def test_an_unreadable_pending_file_is_a_usage_error_and_nothing_is_sent(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A damaged FILE.apply-pending.json is never ignored (it lists creates that may hold
    secrets): plan and apply stop with exit 2 and say what the file is."""
    fleet = write(tmp_path, FLEET)
    (tmp_path / "fleet.yaml.apply-pending.json").write_text("{not json", encoding="utf-8")
    for command in ("plan", "apply"):
        result = invoke(command, str(fleet), "--yes" if command == "apply" else "--prune")
        assert result.exit_code == 2, result.output
        assert "interrupted apply" in result.output
    assert all_keys(modelgates_server) == []


def test_a_long_plan_lists_fifty_keys_an_action_and_counts_the_rest(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """Past 50 keys of one action the table gives a count; --json still lists them all."""
    fleet = write(tmp_path, "".join(f"- name: k{i:03d}\n" for i in range(60)))
    result = invoke("plan", str(fleet))
    assert "… 10 more to create" in result.output
    assert "k049" in result.output
    assert "k050" not in result.output
    assert len(json.loads(invoke("plan", str(fleet), "--json").output)["create"]) == 60


def test_without_an_answer_apply_needs_yes(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """With stdin closed at the question, apply changes nothing and says to pass --yes
    (exit 2), rather than taking silence for a yes or a no."""
    fleet = write(tmp_path, FLEET)
    result = invoke("apply", str(fleet), input="")
    assert result.exit_code == 2
    assert "pass --yes" in result.output
    assert all_keys(modelgates_server) == []


def test_a_secrets_file_that_cannot_be_written_is_finished_by_the_next_apply(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A secret that cannot be written (disk full) stops apply with exit 1 naming the
    journal that keeps it; the next apply writes every secret, and no key is made twice."""
    fleet = write(tmp_path, FLEET)
    real_write = SecretsAppender.write
    calls: list[int] = []

    def full_disk(self: SecretsAppender, created: CreatedKey, **extra: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, created, **extra)

    monkeypatch.setattr(SecretsAppender, "write", full_disk)
    failed = invoke("apply", str(fleet), "--yes")
    assert failed.exit_code == 1
    assert "No space left on device" in failed.output
    assert "fleet.yaml.apply-journal" in failed.output
    monkeypatch.setattr(SecretsAppender, "write", real_write)
    again = invoke("apply", str(fleet), "--yes")
    assert again.exit_code == 0, again.output
    assert "Finished the interrupted apply" in again.output
    keys = by_name(modelgates_server)
    assert sorted(keys) == ["tenant-1", "tenant-2", "tenant-3"]
    assert keys["tenant-3"].disabled
    lines = secrets_of(tmp_path / "fleet.secrets.jsonl")
    assert sorted(line["hash"] for line in lines) == sorted(key.hash for key in keys.values())
