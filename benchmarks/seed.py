"""Deterministic keys and the child environment, shared by the server launcher and workers.

Seeded key ``i`` has the secret ``sk-mg-v1-<i as 64 hex digits>``; a worker needs only the
count to know every hash, so no hash list crosses a process boundary.
"""

from __future__ import annotations

import hashlib
import os
import tempfile

__all__ = ["MANAGEMENT_KEY", "child_env", "seed_hash", "seed_hashes", "seed_secret"]

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


def child_env() -> dict[str, str]:
    """The environment of every process the harness starts.

    Byte-code caching is forced on, into a cache outside the work tree: an environment with
    ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile the editable package from source
    on every start while site-packages (aiohttp, openrouter) load their ``.pyc`` files,
    which is not what an installed package costs a user.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "modelgates-bench-pycache")
    return env
