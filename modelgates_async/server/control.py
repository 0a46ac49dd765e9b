"""The emulator's control endpoints under ``/_emulator/`` (not part of the ModelGates API).

All need the management key. The same controls exist in Python on ``ServerState`` and the
runners; these are for clients in another process or language.

- ``POST /_emulator/usage`` ``{"hash", "amount", "byok": false}`` → ``{"data": APIKey}``
- ``GET /_emulator/clock`` → ``{"now", "frozen"}``;
  ``POST /_emulator/clock`` ``{"now": iso}`` (freeze there) | ``{"advance_seconds": n}`` |
  ``{"resume": true}``
- ``POST /_emulator/faults`` ``{"path", "method", "status", "times", "headers", "body",
  "delay", "drop"}`` → 201; ``GET`` lists them; ``DELETE`` clears them
- ``POST /_emulator/reset`` forgets keys, spend, faults and clock changes
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from .auth import require_management
from .errors import ApiError, json_response
from .records import format_time
from .render import key_data
from .state import ServerState
from .usage import Windows
from .validation import InvalidField, parse_body, parse_utc_timestamp

__all__ = ["add_control_routes"]


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        return parse_body(await request.read())
    except InvalidField as exc:
        raise ApiError(400, exc.message) from None


def _number(body: dict[str, Any], field: str, default: float | None = None) -> float:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ApiError(400, f"{field} must be a number", {"field": field})
    if not math.isfinite(value):
        raise ApiError(400, f"{field} must be finite", {"field": field})
    return float(value)


def add_control_routes(app: web.Application, state: ServerState) -> None:
    """Add the ``/_emulator/`` routes for ``state`` to ``app``."""

    async def usage(request: web.Request) -> web.Response:
        require_management(request, state)
        body = await _body(request)
        key_hash = body.get("hash")
        if not isinstance(key_hash, str):
            raise ApiError(400, "hash must be a string", {"field": "hash"})
        byok = body.get("byok", False)
        if not isinstance(byok, bool):
            raise ApiError(400, "byok must be a boolean", {"field": "byok"})
        try:
            record = state.record_usage(key_hash, _number(body, "amount"), byok=byok)
        except KeyError:
            raise ApiError(404, "API key not found") from None
        except ValueError as exc:
            raise ApiError(400, str(exc), {"field": "amount"}) from None
        totals = state.store.usage(record.hash, Windows.at(state.now()))
        return json_response({"data": key_data(record, totals)})

    def clock_view() -> web.Response:
        return json_response({"now": format_time(state.now()), "frozen": state.clock.frozen})

    async def get_clock(request: web.Request) -> web.Response:
        require_management(request, state)
        return clock_view()

    async def set_clock(request: web.Request) -> web.Response:
        require_management(request, state)
        body = await _body(request)
        if body.get("resume"):
            state.clock.resume()
        if "now" in body:
            if not isinstance(body["now"], str):
                raise ApiError(400, "now must be an ISO 8601 UTC timestamp", {"field": "now"})
            try:
                state.clock.set(parse_utc_timestamp(body["now"], "now"))
            except InvalidField as exc:
                raise ApiError(400, exc.message, {"field": "now"}) from None
        if "advance_seconds" in body:
            state.clock.advance(_number(body, "advance_seconds"))
        return clock_view()

    def fault_view() -> web.Response:
        faults = [
            {
                "path": f.path,
                "method": f.method,
                "times": f.times,
                "status": f.status,
                "headers": dict(f.headers),
                "delay": f.delay,
                "drop": f.drop,
            }
            for f in state.faults.pending()
        ]
        return json_response({"data": faults})

    async def add_fault(request: web.Request) -> web.Response:
        require_management(request, state)
        body = await _body(request)
        headers = body.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise ApiError(400, "headers must map strings to strings", {"field": "headers"})
        status = body.get("status")
        times = body.get("times", 1)
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise ApiError(400, "status must be an integer", {"field": "status"})
        if isinstance(times, bool) or not isinstance(times, int):
            raise ApiError(400, "times must be an integer", {"field": "times"})
        try:
            state.inject_fault(
                str(body.get("path", "*")),
                method=str(body.get("method", "*")),
                status=status,
                times=times,
                headers=headers,
                body=body.get("body"),
                delay=_number(body, "delay", 0.0),
                drop=bool(body.get("drop", False)),
            )
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
        response = fault_view()
        response.set_status(201)
        return response

    async def list_faults(request: web.Request) -> web.Response:
        require_management(request, state)
        return fault_view()

    async def clear_faults(request: web.Request) -> web.Response:
        require_management(request, state)
        state.faults.clear()
        return fault_view()

    async def reset(request: web.Request) -> web.Response:
        require_management(request, state)
        state.reset()
        return json_response({"reset": True})

    app.router.add_post("/_emulator/usage", usage)
    app.router.add_get("/_emulator/clock", get_clock)
    app.router.add_post("/_emulator/clock", set_clock)
    app.router.add_post("/_emulator/faults", add_fault)
    app.router.add_get("/_emulator/faults", list_faults)
    app.router.add_delete("/_emulator/faults", clear_faults)
    app.router.add_post("/_emulator/reset", reset)
