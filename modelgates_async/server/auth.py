"""Who is calling: the management key, a regular key, or nobody (401)."""

from __future__ import annotations

import dataclasses
import hashlib

from aiohttp import web

from .errors import ApiError
from .records import KeyRecord
from .state import ServerState

__all__ = ["Caller", "authenticate", "require_management"]


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller: ``record`` is None for the management key."""

    record: KeyRecord | None

    @property
    def is_management(self) -> bool:
        """Whether the caller used the management key."""
        return self.record is None


_MANAGEMENT = Caller(None)


def _token(request: web.Request) -> str:
    header = request.headers.get("Authorization")
    if not header:
        raise ApiError(401, "Missing Authorization header (expected 'Bearer <key>')")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "Malformed Authorization header (expected 'Bearer <key>')")
    return token


def authenticate(request: web.Request, state: ServerState) -> Caller:
    """Return the caller, or raise a 401 for a missing, malformed, unknown, disabled or
    expired key."""
    digest = hashlib.sha256(_token(request).encode("utf-8", "surrogateescape")).digest()
    if state.is_management_digest(digest):
        return _MANAGEMENT
    record = state.store.get(digest.hex())
    if record is None:
        raise ApiError(401, "Invalid API key")
    if record.disabled:
        raise ApiError(401, "API key is disabled")
    if record.expired(state.now()):
        raise ApiError(401, "API key has expired")
    return Caller(record)


def require_management(request: web.Request, state: ServerState) -> None:
    """Authenticate, then refuse (403) anything but the management key."""
    if not authenticate(request, state).is_management:
        raise ApiError(403, "A management key is required for this endpoint")
