"""The one middleware: scripted faults, rate limiting, and errors in the API's shape.

It is the only per-request layer, so it stays cheap when no fault is queued and no rate
limit is set: two falsy checks, then the handler.
"""

from __future__ import annotations

import asyncio
import json
import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .auth import authenticate
from .errors import ApiError, error_response
from .faults import Fault
from .state import ServerState

__all__ = ["CONTROL_PREFIX", "make_middleware"]

logger = logging.getLogger("modelgates_async.server")

CONTROL_PREFIX = "/_emulator/"

_MESSAGES = {
    404: "Not Found: no such route",
    405: "Method Not Allowed",
    413: "Request body too large (the limit is 1 MiB)",
}
# What an injected fault says by default: the spec's wording for the status.
_FAULT_MESSAGES = {
    409: "Conflict: the key was changed concurrently or cannot be moved (injected fault)",
}


async def _apply_fault(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.drop:
        transport = request.transport
        if transport is not None:
            transport.abort()
        # Nothing can be sent any more; the server treats the cancelled handler as gone.
        raise asyncio.CancelledError
    if fault.status is None:
        return None
    headers = dict(fault.headers)
    if fault.body is None:
        message = _FAULT_MESSAGES.get(fault.status, f"Injected fault: HTTP {fault.status}")
        return error_response(fault.status, message, None, headers)
    if isinstance(fault.body, str):
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return web.Response(status=fault.status, text=fault.body, headers=headers)
    response = web.Response(
        status=fault.status, body=json.dumps(fault.body).encode(), headers=headers
    )
    if "Content-Type" not in headers:
        response.content_type = "application/json"
    return response


def _bucket(request: web.Request, state: ServerState) -> str:
    """Rate-limit by the key a request authenticates as, however its header is spelled;
    requests that authenticate as nobody share their client address's bucket."""
    try:
        caller = authenticate(request, state)
    except ApiError:
        return f"address:{request.remote or ''}"
    return "management" if caller.record is None else f"key:{caller.record.hash}"


def make_middleware(state: ServerState) -> Middleware:
    """Build the middleware for a server state."""

    connections = state.connections

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        transport = request.transport
        connections.request_started(transport)
        try:
            return await _guarded(request, handler)
        finally:
            connections.request_finished(transport)

    async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            if (state.faults or state.limiter is not None) and not request.path.startswith(
                CONTROL_PREFIX
            ):
                if state.faults:
                    fault = state.faults.take(request.method, request.path)
                    if fault is not None:
                        response = await _apply_fault(request, fault)
                        if response is not None:
                            return response
                if state.limiter is not None:
                    wait = state.limiter.acquire(_bucket(request, state))
                    if wait:
                        raise ApiError(
                            429,
                            "Rate limit exceeded, retry later",
                            {"retry_after_seconds": wait},
                            {"Retry-After": str(wait)},
                        )
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            message = _MESSAGES.get(exc.status, exc.reason)
            return error_response(exc.status, message, None, headers)
        except ConnectionResetError:
            # The client hung up mid-request (its timeout, a Ctrl-C): nobody is left to
            # answer, and it is no server error. Ended as a dropped request is.
            logger.debug("client gone during %s %s", request.method, request.path)
            raise asyncio.CancelledError from None
        except Exception:
            # The traceback names no secret: handlers never put one in an exception.
            logger.exception("unhandled error on %s %s", request.method, request.path)
            return error_response(500, "Internal Server Error")

    return middleware
