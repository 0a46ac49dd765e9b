"""Every table the CLI prints, rendered at 80 and 120 columns: nothing wider than the
terminal, no hash cut, the columns that matter first; one formatter for every view."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console, RenderableType

from modelgates_async import KeySpec
from modelgates_async.cli.formatting import money, status, when
from modelgates_async.cli.keytable import MIN_PREFIX, key_table, unique_prefixes
from modelgates_async.cli.output import detail_table
from modelgates_async.models import APIKey
from modelgates_async.server import LocalServer
from tests.cli.helpers import Invoke, all_keys, make_keys

WIDTHS = (80, 120)
HEX = re.compile(r"\b[0-9a-f]{8,64}\b")


BOX = frozenset("┏┓┗┛┃━┳┻╋┡┩┢┪╇│─┬┴┼└┘┌┐├┤")


def assert_fits(lines: list[str], width: int) -> None:
    """No line is wider than ``width``, and no table was cropped to get there: a line that
    starts with a border ends with one (rich silently crops a table wider than the console)."""
    assert max(len(line) for line in lines) <= width
    for line in lines:
        if line[:1] in BOX:
            assert line.rstrip()[-1] in BOX, f"cropped: {line!r}"


def render(renderable: RenderableType, width: int) -> list[str]:
    """The lines ``renderable`` prints on a terminal ``width`` columns wide."""
    buffer = StringIO()
    Console(file=buffer, width=width, no_color=True, force_terminal=False).print(renderable)
    return buffer.getvalue().splitlines()


@pytest.fixture
def fleet(modelgates_server: LocalServer) -> list[APIKey]:
    """A few keys with long and short names, limits, resets and spend, one disabled."""
    made = make_keys(
        modelgates_server,
        KeySpec("Acme Corporation — production tenant, EU region", limit=50, limit_reset="monthly"),
        KeySpec("globex", limit=1250.5, limit_reset="weekly"),
        KeySpec("initech", limit=None),
    )
    modelgates_server.record_usage(made[1].data.hash, 12.25)
    return sorted(all_keys(modelgates_server), key=lambda key: key.name)


@pytest.mark.parametrize("width", WIDTHS)
def test_key_table_fits_and_keeps_what_matters(fleet: list[APIKey], width: int) -> None:
    """keys list: no line over the width; name, status, limit, spent and an uncut hash."""
    lines = render(key_table(fleet, width=width), width)
    assert_fits(lines, width)
    header = lines[1]
    for column in ("name", "hash", "status", "limit", "spent"):
        assert column in header
    text = "\n".join(lines)
    for key in fleet:
        shown = [word for word in HEX.findall(text) if key.hash.startswith(word)]
        assert len(shown) == 1
        assert len(shown[0]) >= MIN_PREFIX
    assert "$1,250.50" in text
    assert "$12.25" in text
    assert "…" not in "".join(HEX.findall(text))


def test_key_table_uses_the_room_of_a_wide_terminal(fleet: list[APIKey]) -> None:
    """120 columns add the reset and created columns; 200 show the full hash."""
    narrow = "\n".join(render(key_table(fleet, width=80), 80))
    wide = "\n".join(render(key_table(fleet, width=120), 120))
    widest = "\n".join(render(key_table(fleet, width=200), 200))
    assert "created" not in narrow
    assert "reset" in wide
    assert "created" in wide
    assert all(key.hash in widest for key in fleet)


def test_unique_prefixes_grow_past_a_shared_start() -> None:
    """Hashes sharing their first ten characters get eleven-character prefixes."""
    shared = "abcdef0123"
    prefixes = unique_prefixes([shared + "4" + "0" * 53, shared + "5" + "0" * 53, "f" * 64])
    assert sorted(prefixes.values()) == [shared + "4", shared + "5", "ffffffff"]


@pytest.mark.parametrize("width", WIDTHS)
def test_detail_table_fits_with_the_hash_whole(fleet: list[APIKey], width: int) -> None:
    """keys get: no line over the width, the hash whole on one line, formatted values."""
    key = fleet[0]
    lines = render(detail_table(key), width)
    assert_fits(lines, width)
    assert any(key.hash in line for line in lines)
    text = "\n".join(lines)
    assert "$50.00" in text
    assert "enabled" in text
    assert when(key.created_at) in text


@pytest.mark.parametrize("width", WIDTHS)
def test_bulk_report_tables_fit(
    invoke: Invoke,
    modelgates_server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    width: int,
) -> None:
    """bulk-create's tables (created, failed) fit the width with hashes uncut."""
    monkeypatch.setenv("COLUMNS", str(width))
    source = tmp_path / "t.csv"
    source.write_text(
        "name,limit\n"
        + "".join(f"tenant number {i} of a customer list with long names,{i}\n" for i in range(3))
    )
    modelgates_server.inject_fault("/keys", method="POST", status=400, times=1)
    result = invoke("keys", "bulk-create", str(source))
    assert result.exit_code == 1
    # Lines naming a path are left whole for copying (the terminal wraps them).
    lines = [line for line in result.stdout.splitlines() if str(tmp_path) not in line]
    assert_fits(lines, width)
    for key in all_keys(modelgates_server):
        assert any(key.hash.startswith(word) for word in HEX.findall(result.stdout))
    assert "1 line(s) failed" in result.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_list_command_fits_the_columns_it_is_given(
    invoke: Invoke, fleet: list[APIKey], monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """`keys list` with COLUMNS=80/120 renders no line wider than that."""
    monkeypatch.setenv("COLUMNS", str(width))
    result = invoke("keys", "list")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout.splitlines(), width)
    assert "status" in result.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_demo_tables_fit(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    """The demo's tables fit 80 and 120 columns."""
    from click.testing import CliRunner

    from modelgates_async.cli import group

    monkeypatch.setenv("COLUMNS", str(width))
    result = CliRunner().invoke(group(), ["demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout.splitlines(), width)
    assert "…" not in result.stdout  # no cell squeezed


def test_get_create_and_list_format_alike(invoke: Invoke, modelgates_server: LocalServer) -> None:
    """create, get and list all print $50.00 and enabled/disabled, never 50.0 or False."""
    created = invoke("keys", "create", "t", "--limit", "50")
    key_hash = all_keys(modelgates_server)[0].hash
    invoke("keys", "disable", key_hash)
    shown = invoke("keys", "get", key_hash)
    listed = invoke("keys", "list", "--include-disabled")
    for output in (created.stdout, shown.stdout, listed.stdout):
        assert "$50.00" in output
        assert "50.0 " not in output
        assert "False" not in output
        assert "True" not in output
    assert "enabled" in created.stdout
    assert "disabled" in shown.stdout
    assert "disabled" in listed.stdout


def test_formatters() -> None:
    """money, when and status: one way to write each."""
    assert money(1250.5) == "$1,250.50"
    assert money(None) == "—"
    assert when(datetime(2026, 1, 31, 14, 5, 59, tzinfo=timezone.utc)) == "2026-01-31 14:05 UTC"
    assert json.dumps(money(0.0)) == '"$0.00"'


def test_status_says_expired(fleet: list[APIKey]) -> None:
    """A key past its expiry reads "expired"; a disabled one "disabled"."""
    import attrs

    past = attrs.evolve(fleet[0], expires_at=datetime(2020, 1, 1, tzinfo=timezone.utc))
    assert status(past) == "expired"
    assert status(attrs.evolve(past, disabled=True)) == "disabled"
    assert status(fleet[0]) == "enabled"
