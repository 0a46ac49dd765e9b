"""``decode_json`` takes the C scanner's answer only when it spans the whole body; every
other body gets ``json``'s own rules, so it accepts and refuses exactly what ``json.loads``
does (refusals as ``NO_JSON``)."""

from __future__ import annotations

import json
import math

import pytest

from modelgates_async._status import NO_JSON, decode_json

BODIES = [
    b'{"data": {"n": 1}}',
    b'{"data":[]}\n',  # a trailing newline, as many servers send
    b' \t\r\n{"a": 1} \n',  # whitespace on both sides
    b"[1, 2, 3]",
    b'"text"',
    b"17",
    b"null",
    b"NaN",  # json.loads accepts it; so must we
    b"",
    b"   ",
    b'{"a": 1} {"b": 2}',  # extra data
    b'{"a": 1}\x0b',  # whitespace to str.isspace, not to JSON
    b'{"a": 1',
    b"\xef\xbb\xbf{}",  # a BOM: json.loads' own path
    b"[" * 100_000 + b"]" * 100_000,  # too deep for json: not JSON, not a crash
]


def loads_or_no_json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return NO_JSON


@pytest.mark.parametrize("raw", BODIES, ids=lambda raw: repr(raw[:24]))
def test_decode_json_agrees_with_json_loads(raw: bytes) -> None:
    """Same value for what json accepts, NO_JSON for what it refuses."""
    expected = loads_or_no_json(raw)
    decoded = decode_json(raw)
    if isinstance(expected, float) and math.isnan(expected):
        assert isinstance(decoded, float)
        assert math.isnan(decoded)
    else:
        assert decoded == expected
        assert (decoded is NO_JSON) == (expected is NO_JSON)
