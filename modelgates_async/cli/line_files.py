"""Reading the entry files of bulk-create (``specfile``) and plan/apply (``fleet_file``):
UTF-8 text, CSV rows and JSONL objects, each with the line it starts on. Problems are
collected as ``"line N: ..."`` so that a file's every problem is listed at once. No click.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["NotUTF8Error", "csv_table", "jsonl_objects", "read_utf8"]


class NotUTF8Error(ValueError):
    """The file's bytes are not UTF-8: ``line`` and ``byte`` are the first bad one's."""

    def __init__(self, line: int, byte: int) -> None:
        super().__init__(f"line {line}: not UTF-8 (byte 0x{byte:02x})")
        self.line = line
        self.byte = byte


def read_utf8(path: Path) -> str:
    """The text of ``path``, a UTF-8 byte-order mark skipped. Raises :class:`OSError` or
    :class:`NotUTF8Error`."""
    raw = path.read_bytes()
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotUTF8Error(raw.count(b"\n", 0, exc.start) + 1, raw[exc.start]) from None


def csv_table(text: str, problems: list[str]) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header's names (stripped; :class:`csv.Error` when unreadable) and the rows after
    it, as ``(line it starts on, cells)``. Blank rows are skipped; a row with more cells
    than the header is a problem; a syntax error is one and ends the rows (the rest cannot
    be read reliably)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = [name.strip() for name in next(reader, None) or []]

    def rows() -> Iterator[tuple[int, list[str]]]:
        finished = reader.line_num
        while True:
            start = finished + 1
            try:
                record = next(reader, None)
            except csv.Error as exc:
                problems.append(f"line {start}: {exc}")
                return
            finished = reader.line_num
            if record is None:
                return
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header):
                problems.append(f"line {start}: {len(record)} cells, the header has {len(header)}")
                continue
            yield start, record

    return header, rows()


def jsonl_objects(text: str, problems: list[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each JSON object of a JSONL text (lines end at ``\\n`` only) with its line; a line
    that is not JSON, or not an object, is a problem. Blank lines are skipped."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            problems.append(f"line {number}: not JSON ({exc})")
            continue
        if not isinstance(value, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        yield number, value
