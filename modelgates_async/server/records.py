"""Key records as the server keeps them, and the rules for secrets, hashes and labels."""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime, timezone

__all__ = [
    "DEFAULT_WORKSPACE_ID",
    "KEY_PREFIX",
    "KeyRecord",
    "format_time",
    "hash_secret",
    "mask_secret",
    "new_secret",
]

#: The workspace every key lands in unless the request names another one.
DEFAULT_WORKSPACE_ID = "00000000-0000-4000-8000-000000000000"
#: Prefix of every secret the server issues.
KEY_PREFIX = "sk-mg-v1-"


def new_secret() -> str:
    """Return a fresh key secret, ``sk-mg-v1-`` and 64 hex characters."""
    return KEY_PREFIX + secrets.token_hex(32)


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex digest of a secret: the only form the store keeps."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def mask_secret(secret: str) -> str:
    """Return the public label of a secret, e.g. ``sk-mg-v1-abc...123``."""
    if secret.startswith(KEY_PREFIX) and len(secret) >= len(KEY_PREFIX) + 6:
        body = secret[len(KEY_PREFIX) :]
        return f"{KEY_PREFIX}{body[:3]}...{body[-3:]}"
    # A hand-picked management key: too short to show any of it safely.
    if len(secret) < 16:
        return "..."
    return f"{secret[:3]}...{secret[-3:]}"


def format_time(value: datetime | None) -> str | None:
    """Return an ISO 8601 UTC timestamp (``+00:00``), or None."""
    if value is None:
        return None
    if value.tzinfo is not timezone.utc:  # stored times are UTC already; skip the conversion
        value = value.astimezone(timezone.utc)
    return value.isoformat()


@dataclasses.dataclass(frozen=True, slots=True)
class KeyRecord:
    """One stored API key. The secret itself is never kept, only its hash."""

    hash: str
    name: str
    label: str
    created_at: datetime
    workspace_id: str = DEFAULT_WORKSPACE_ID
    disabled: bool = False
    limit: float | None = None
    limit_reset: str | None = None
    include_byok_in_limit: bool = False
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    creator_user_id: str | None = None
    external_user: str | None = None
    last_used_at: datetime | None = None
    #: SHA-256 (hex) of the ``external.api_key`` given at creation; never shown by the API.
    external_api_key_sha256: str | None = dataclasses.field(default=None, repr=False)

    def expired(self, now: datetime) -> bool:
        """Whether ``expires_at`` has passed at ``now`` (a key expiring at ``now`` has)."""
        return self.expires_at is not None and self.expires_at <= now
