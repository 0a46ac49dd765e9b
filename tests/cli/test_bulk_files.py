"""bulk-create reads its file as the csv module does, refuses a file that does not parse as
a whole before creating anything, and leaves no empty secrets file behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelgates_async.server import LocalServer
from tests.cli.helpers import WRONG_KEY, Invoke, all_keys


def created_names(server: LocalServer) -> dict[str, float | None]:
    """The keys on the server: name → limit."""
    return {key.name: key.limit for key in all_keys(server)}


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c"])
def test_unicode_line_separators_stay_inside_their_field(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, separator: str
) -> None:
    """A Unicode line separator inside a CSV field does not split the row."""
    source = tmp_path / "t.csv"
    source.write_text(f"name,limit\nacme{separator}corp,5\n", encoding="utf-8", newline="")
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 0, result.output
    assert created_names(modelgates_server) == {f"acme{separator}corp": 5.0}


def test_a_quoted_newline_is_kept(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """RFC 4180: a quoted field keeps its newline, commas and doubled quotes; CRLF rows work."""
    source = tmp_path / "t.csv"
    source.write_bytes(b'name,limit\r\n"two\r\nlines, ""quoted""",7\r\nplain,\r\n')
    result = invoke("keys", "bulk-create", str(source), "--json")
    assert result.exit_code == 0, result.output
    assert created_names(modelgates_server) == {'two\r\nlines, "quoted"': 7.0, "plain": None}
    assert [key["line"] for key in json.loads(result.stdout)["keys"]] == [2, 4]


def test_a_utf8_bom_is_read_correctly(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A UTF-8 byte-order mark (as Excel writes) does not spoil the header."""
    source = tmp_path / "t.csv"
    source.write_bytes("\ufeffname,limit\nzoë,3\n".encode())
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 0, result.output
    assert created_names(modelgates_server) == {"zoë": 3.0}


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_file_that_is_not_utf8_is_a_usage_error_naming_the_line(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, suffix: str
) -> None:
    """Latin-1 bytes: exit 2 naming the line, nothing created, no secrets file."""
    source = tmp_path / ("t" + suffix)
    body = (
        "name\nok\nzo\u00eb\n" if suffix == ".csv" else '{"name": "ok"}\n\n{"name": "zo\u00eb"}\n'
    )
    source.write_bytes(body.encode("latin-1"))
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 2
    assert "line 3: not UTF-8" in result.output
    assert "Traceback" not in result.output
    assert all_keys(modelgates_server) == []
    assert not (tmp_path / "t.secrets.jsonl").exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('name,limit\nok,1\n"unterminated,2\n', "line 3: unexpected end of data"),
        ('name,limit\nok,1\n"bad"x,2\n', "line 3: ',' expected after '\"'"),
        ("name,limit\nok,1\nextra,1,2\n", "line 3: 3 cells, the header has 2"),
        ("name,limit\nok,1\nbad,-5\n", "line 3: limit"),
    ],
)
def test_a_csv_that_does_not_parse_creates_nothing(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, content: str, problem: str
) -> None:
    """One bad row anywhere: exit 2 with the line, no key created, no secrets file."""
    source = tmp_path / "t.csv"
    source.write_text(content)
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 2, result.output
    assert problem in result.output
    assert all_keys(modelgates_server) == []
    assert not (tmp_path / "t.secrets.jsonl").exists()


def test_jsonl_lines_end_only_at_newline(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A raw U+2028 inside a JSONL string does not end the line."""
    source = tmp_path / "t.jsonl"
    source.write_text('{"name": "a\u2028b", "limit": 2}\n{"name": "c"}\n', encoding="utf-8")
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 0, result.output
    assert created_names(modelgates_server) == {"a\u2028b": 2.0, "c": None}


@pytest.mark.parametrize(
    ("line", "problem"),
    [("not json", "not JSON"), ("[1, 2]", "not a JSON object"), ('{"nme": "x"}', "nme")],
)
def test_a_jsonl_file_with_a_bad_line_creates_nothing(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path, line: str, problem: str
) -> None:
    """A JSONL line that is not a valid spec: exit 2 naming it, nothing created."""
    source = tmp_path / "t.jsonl"
    source.write_text('{"name": "ok"}\n' + line + "\n")
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 2
    assert "line 2:" in result.output
    assert problem in result.output
    assert all_keys(modelgates_server) == []


def test_a_run_refused_by_the_api_leaves_no_secrets_file(
    invoke: Invoke, modelgates_server: LocalServer, tmp_path: Path
) -> None:
    """A wrong API key: exit 1, and the next run is not blocked by an empty secrets file."""
    source = tmp_path / "t.csv"
    source.write_text("name\na\n")
    refused = invoke("keys", "bulk-create", str(source), "--api-key", WRONG_KEY)
    assert refused.exit_code == 1
    assert not (tmp_path / "t.secrets.jsonl").exists()
    again = invoke("keys", "bulk-create", str(source))
    assert again.exit_code == 0, again.output
    assert list(created_names(modelgates_server)) == ["a"]
