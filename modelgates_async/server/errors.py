"""The API's error body, ``{"error": {"code", "message", "metadata"}}``, the exception that
handlers raise to answer with one, and the error of a server that cannot start as configured."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

__all__ = ["ApiError", "ServerConfigError", "error_response", "json_response"]

JSON_CONTENT_TYPE = "application/json"


def json_response(data: Any, status: int = 200) -> web.Response:
    """Answer ``data`` as compact JSON."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":"), check_circular=False).encode(),
        status=status,
        content_type=JSON_CONTENT_TYPE,
        charset="utf-8",
    )


def error_response(
    status: int,
    message: str,
    metadata: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """Answer an error in the API's shape."""
    body = {"error": {"code": status, "message": message, "metadata": metadata}}
    response = json_response(body, status)
    if headers:
        response.headers.update(headers)
    return response


class ApiError(Exception):
    """Raised by a handler to answer an error; the message never holds a secret."""

    def __init__(
        self,
        status: int,
        message: str,
        metadata: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.metadata = metadata
        self.headers = headers

    def response(self) -> web.Response:
        """The error response to send."""
        return error_response(self.status, self.message, self.metadata, self.headers)


class ServerConfigError(ValueError):
    """The server cannot start with these options: a port out of range, a database file that
    cannot be opened or is not SQLite, or a management key other than the database's.

    The message says which option and why, and never holds a secret; the command line
    prints it as a usage error (exit status 2).
    """
