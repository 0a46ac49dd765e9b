"""Deterministic keys shared by the seeding server launcher and the client workers.

Seeded key ``i`` has the secret ``sk-mg-v1-<i as 64 hex digits>``; a worker needs only the
count to know every hash, so no hash list crosses a process boundary.
"""

from __future__ import annotations

import hashlib

__all__ = ["MANAGEMENT_KEY", "seed_hash", "seed_hashes", "seed_secret"]

#: The management key every benchmark server is started with.
MANAGEMENT_KEY = "sk-mg-v1-" + "be" * 32


def seed_secret(index: int) -> str:
    """The secret of seeded key ``index``."""
    return f"sk-mg-v1-{index:064x}"


def seed_hash(index: int) -> str:
    """The hash (SHA-256 hex of the secret) of seeded key ``index``."""
    return hashlib.sha256(seed_secret(index).encode()).hexdigest()


def seed_hashes(count: int) -> list[str]:
    """The hashes of seeded keys ``0 .. count - 1``."""
    return [seed_hash(i) for i in range(count)]
