"""The ModelGates API under ``/api/v1``: routes and handlers on aiohttp.web."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .auth import authenticate, require_management
from .control import add_control_routes
from .errors import ApiError, json_response
from .middleware import make_middleware
from .records import DEFAULT_WORKSPACE_ID, KeyRecord, hash_secret, mask_secret, new_secret
from .render import current_key_data, key_data, management_key_data
from .state import ServerState
from .usage import Windows
from .validation import (
    InvalidField,
    check_text,
    parse_body,
    parse_create,
    parse_list_query,
    parse_update,
)

__all__ = ["MAX_BODY_BYTES", "PAGE_SIZE", "STATE_KEY", "create_app"]

#: Keys in one page of ``GET /keys``.
PAGE_SIZE = 100
#: Largest request body accepted (larger ones get 413).
MAX_BODY_BYTES = 1024 * 1024
#: Where the app keeps its ``ServerState``.
STATE_KEY = web.AppKey("modelgates_state", ServerState)


def _bad_request(exc: InvalidField) -> ApiError:
    return ApiError(400, exc.message, None if exc.field is None else {"field": exc.field})


async def _json_body(request: web.Request, state: ServerState) -> dict[str, Any]:
    # A body dripped in slowly is cut off like late headers (nginx's client_body_timeout);
    # read() raises 413 past client_max_size.
    try:
        raw = await asyncio.wait_for(request.read(), state.connections.header_timeout)
    except asyncio.TimeoutError:
        raise ApiError(408, "Request body not received in time") from None
    try:
        return parse_body(raw)
    except InvalidField as exc:
        raise _bad_request(exc) from None


def _path_hash(request: web.Request) -> str:
    try:
        return check_text(request.match_info["hash"], "hash")
    except InvalidField as exc:
        raise _bad_request(exc) from None


class Handlers:
    """Request handlers bound to one server state."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def _render(self, record: KeyRecord) -> dict[str, Any]:
        totals = self.state.store.usage(record.hash, Windows.at(self.state.now()))
        return key_data(record, totals)

    def _record(self, request: web.Request) -> KeyRecord:
        record = self.state.store.get(_path_hash(request))
        if record is None:
            raise ApiError(404, "API key not found")
        return record

    async def list_keys(self, request: web.Request) -> web.Response:
        """``GET /keys``: a page of keys, most recent first."""
        require_management(request, self.state)
        try:
            query = parse_list_query(request.query)
        except InvalidField as exc:
            raise _bad_request(exc) from None
        now = self.state.now()
        records = self.state.store.list(
            workspace_id=query.workspace_id or DEFAULT_WORKSPACE_ID,
            include_disabled=query.include_disabled,
            offset=query.offset,
            limit=PAGE_SIZE,
            active_at=None if query.include_expired else now,
        )
        totals = self.state.store.usage_of([r.hash for r in records], Windows.at(now))
        return json_response(
            {"data": [key_data(r, t) for r, t in zip(records, totals, strict=True)]}
        )

    async def create_key(self, request: web.Request) -> web.Response:
        """``POST /keys``: a new key; its secret is in the answer and nowhere else."""
        require_management(request, self.state)
        body = await _json_body(request, self.state)
        try:
            spec = parse_create(body)
        except InvalidField as exc:
            raise _bad_request(exc) from None
        now = self.state.now()
        while True:  # a repeated 256-bit secret is practically impossible; never store two
            secret = new_secret()
            record = KeyRecord(
                hash=hash_secret(secret),
                name=spec.name,
                label=mask_secret(secret),
                created_at=now,
                workspace_id=spec.workspace_id or DEFAULT_WORKSPACE_ID,
                limit=spec.limit,
                limit_reset=spec.limit_reset,
                include_byok_in_limit=spec.include_byok_in_limit,
                expires_at=spec.expires_at,
                creator_user_id=spec.creator_user_id,
                external_user=spec.external_user,
                external_api_key_sha256=spec.external_api_key_sha256,
            )
            if self.state.store.insert(record):
                break
        return json_response({"data": self._render(record), "key": secret}, status=201)

    async def get_key(self, request: web.Request) -> web.Response:
        """``GET /keys/{hash}``."""
        require_management(request, self.state)
        return json_response({"data": self._render(self._record(request))})

    async def update_key(self, request: web.Request) -> web.Response:
        """``PATCH /keys/{hash}``: only the fields present change; null clears."""
        require_management(request, self.state)
        body = await _json_body(request, self.state)
        try:
            changes = parse_update(body)
        except InvalidField as exc:
            raise _bad_request(exc) from None
        record = self._record(request)
        if changes.get("workspace_id") == record.workspace_id:
            del changes["workspace_id"]  # moving a key where it is changes nothing
            if not changes:
                return json_response({"data": self._render(record)})
        updated = self.state.store.update(record.hash, {**changes, "updated_at": self.state.now()})
        if updated is None:
            raise ApiError(404, "API key not found")
        return json_response({"data": self._render(updated)})

    async def delete_key(self, request: web.Request) -> web.Response:
        """``DELETE /keys/{hash}``."""
        require_management(request, self.state)
        if not self.state.store.delete(_path_hash(request)):
            raise ApiError(404, "API key not found")
        return json_response({"deleted": True})

    async def current_key(self, request: web.Request) -> web.Response:
        """``GET /key``: the record of whichever key made the request."""
        state = self.state
        caller = authenticate(request, state)
        if caller.record is None:
            return json_response(
                {"data": management_key_data(state.management_label, state.rate_limit)}
            )
        now = state.now()
        # Only last_used_at is written: a change another process just made stays.
        record = state.store.update(caller.record.hash, {"last_used_at": now}) or caller.record
        totals = state.store.usage(record.hash, Windows.at(now))
        return json_response({"data": current_key_data(record, totals, now, state.rate_limit)})


def create_app(state: ServerState | None = None, **state_options: Any) -> web.Application:
    """Build the aiohttp application of a ModelGates server.

    Pass a ``ServerState``, or the options of one (``management_key=``, ``db=``,
    ``rate_limit=``, ``clock=``…). A state made here is closed when the app shuts down; a
    state passed in is the caller's to close.
    """
    owned = state is None
    if state is None:
        state = ServerState(**state_options)
    elif state_options:
        raise TypeError("pass either a ServerState or its options, not both")
    app = web.Application(middlewares=[make_middleware(state)], client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = state
    h = Handlers(state)
    for prefix in ("/api/v1/keys", "/api/v1/keys/"):
        app.router.add_get(prefix, h.list_keys)
        app.router.add_post(prefix, h.create_key)
    app.router.add_get("/api/v1/keys/{hash}", h.get_key)
    app.router.add_patch("/api/v1/keys/{hash}", h.update_key)
    app.router.add_delete("/api/v1/keys/{hash}", h.delete_key)
    app.router.add_get("/api/v1/key", h.current_key)
    add_control_routes(app, state)

    if owned:

        async def close_state(_: web.Application) -> None:
            state.close()

        app.on_cleanup.append(close_state)
    return app
