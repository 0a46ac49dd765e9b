"""Reading a fleet FILE: formats, defaults, and one clear error per problem (nothing sent)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from modelgates_async.cli.fleet_file import FleetFileError, read_fleet
from modelgates_async.server import LocalServer
from tests.cli.helpers import Invoke, all_keys


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(FleetFileError) as caught:
        read_fleet(path)
    return caught.value.problems


def test_yaml_defaults_apply_to_every_key_and_entries_override_them(tmp_path: Path) -> None:
    """`defaults` fill each entry's missing fields; an entry's own value wins; `disabled`
    is false unless given; lines are the entries' own."""
    path = write(
        tmp_path,
        "f.yaml",
        "defaults:\n  limit: 5\n  limit_reset: daily\nkeys:\n"
        "  - name: a\n  - name: b\n    limit: null\n    disabled: true\n",
    )
    a, b = read_fleet(path)
    assert (a.line, a.name, dict(a.fields)) == (
        5,
        "a",
        {"limit": 5.0, "limit_reset": "daily", "disabled": False},
    )
    assert (b.line, dict(b.fields)) == (
        6,
        {"limit": None, "limit_reset": "daily", "disabled": True},
    )


def test_a_plain_yaml_list_and_workspaces(tmp_path: Path) -> None:
    """A YAML list of keys works too; one name may appear once per workspace."""
    workspace = "11111111-1111-4111-8111-111111111111"
    path = write(tmp_path, "f.yml", f"- name: a\n- name: a\n  workspace_id: {workspace}\n")
    assert [key.identity for key in read_fleet(path)] == [(None, "a"), (workspace, "a")]


def test_every_problem_of_a_yaml_file_is_listed_with_its_line(tmp_path: Path) -> None:
    """Unknown field, wrong type, negative limit, bad date, bad reset, missing name: one
    error each, each with the line of its entry, all in one go."""
    path = write(
        tmp_path,
        "bad.yaml",
        "- name: a\n  limt: 5\n"  # line 1
        "- name: b\n  limit: lots\n"  # line 3
        "- name: c\n  limit: -1\n"  # line 5
        "- name: d\n  expires_at: 'next tuesday'\n"  # line 7
        "- name: e\n  limit_reset: hourly\n  disabled: maybe\n"  # line 9
        "- limit: 3\n",  # line 12
    )
    found = problems(path)
    assert len(found) == 7, found
    assert found[0].startswith("line 1: unknown field 'limt'")
    assert [problem.split(":")[0] for problem in found] == [
        "line 1",
        "line 3",
        "line 5",
        "line 7",
        "line 9",
        "line 9",
        "line 12",
    ]
    assert "limit" in found[1]
    assert "limit" in found[2]
    assert "expires_at" in found[3]
    assert "no name" in found[6]


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    """A YAML syntax error is one problem with its line."""
    (problem,) = problems(write(tmp_path, "f.yaml", "- name: a\n- name: [b\n  limit: 1\n"))
    assert problem.startswith("line ")
    assert "YAML syntax error" in problem


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    """A file that is not UTF-8 is refused with the line of the first bad byte."""
    (problem,) = problems(write(tmp_path, "f.csv", b"name,limit\nok,1\ncaf\xe9,2\n"))
    assert problem == "line 3: not UTF-8 (byte 0xe9); save it as UTF-8"


def test_csv_and_jsonl_problems_name_their_lines(tmp_path: Path) -> None:
    """CSV cells and JSONL objects are checked like YAML entries, one error per problem."""
    csv_problems = problems(
        write(tmp_path, "f.csv", "name,limit,disabled\na,-3,\nb,2,perhaps\nc,x,no\n")
    )
    assert [p.split(":")[0] for p in csv_problems] == ["line 2", "line 3", "line 4"]
    jsonl = '{"name": "a", "limit": true}\nnot json\n[1]\n{"name": "b", "workspace_id": 3}\n'
    jsonl_problems = problems(write(tmp_path, "f.jsonl", jsonl))
    assert [p.split(":")[0] for p in jsonl_problems] == ["line 1", "line 2", "line 3", "line 4"]
    header = problems(write(tmp_path, "g.csv", "name,colour\na,red\n"))
    assert header == [
        "line 1: unknown column(s) 'colour' (fields: name, limit, limit_reset, "
        "include_byok_in_limit, disabled, expires_at, creator_user_id, external_user, "
        "workspace_id)"
    ]


def test_an_unknown_suffix_is_refused(tmp_path: Path) -> None:
    """Only .yaml/.yml, .csv and .jsonl/.ndjson files are read."""
    (problem,) = problems(write(tmp_path, "f.txt", "name\n"))
    assert "expected a" in problem


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bad.yaml", "- name: a\n  limit: -5\n- name: b\n  colour: red\n"),
        ("bad.yaml", "keys:\n  - name: a\n  -: [\n"),
        ("bad.csv", b"name\n\xff\xfe\n"),
        ("bad.jsonl", '{"name": "a", "expires_at": "yesterday"}\n'),
    ],
)
def test_a_bad_file_exits_2_and_sends_nothing(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, name: str, content: str | bytes
) -> None:
    """plan and apply refuse a bad FILE with exit status 2, listing its problems, and the
    server's key count stays 0."""
    path = write(tmp_path, name, content)
    for command in (["plan"], ["apply", "--yes"]):
        result = invoke(*command, str(path))
        assert result.exit_code == 2, result.output
        assert "nothing was sent" in result.output
        assert "line " in result.output
    assert all_keys(modelgates_server) == []
    assert modelgates_server.state.store.count() == 0


def test_the_planning_modules_do_not_import_click() -> None:
    """Reading FILE, planning and applying work without click or rich (the commands alone
    need them): a fresh interpreter imports those modules and neither library is loaded."""
    code = (
        "import sys\n"
        "import modelgates_async.cli.apply_run, modelgates_async.cli.fleet_file\n"
        "import modelgates_async.cli.fleet_yaml, modelgates_async.cli.plan_model\n"
        "assert 'click' not in sys.modules and 'rich' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
