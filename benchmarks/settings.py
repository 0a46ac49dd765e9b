"""How much work each scenario does: the full run and the quick (CI smoke) run."""

from __future__ import annotations

import dataclasses

__all__ = ["BASELINE", "FULL", "QUICK", "Settings"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """Sizes of one run. ``*_peer`` sizes apply to openrouter, 20-50× slower per request:
    its figures are rates, so a shorter run of it measures the same thing."""

    mode: str
    rounds: int
    concurrency: int
    seeded: int
    warmup: int
    gets: int
    gets_peer: int
    creates: int
    creates_peer: int
    sequential: int
    sequential_peer: int
    import_runs: int
    iter_keys: int
    bulk_keys: int
    rate_limit: float
    ceiling_requests: int
    ceiling_concurrency: int
    baseline: str | None = None
    """A commit whose SDK runs beside the working tree's in scenarios 1 and 2 (None: none)."""
    pin: bool = True
    """Server on the first CPU, clients on the others, when there are two or more."""


BASELINE = "a4a529b"
"""main before issues 11, 13 and 14 added redaction, capped reads, hooks and tracing."""


FULL = Settings(
    mode="full",
    # Many short rounds rather than a few long ones: on a shared machine each contender then
    # samples the same mix of quiet and busy moments, and the medians compare like with like.
    rounds=21,
    concurrency=64,
    seeded=1000,
    warmup=300,
    gets=3000,
    gets_peer=200,
    creates=1500,
    creates_peer=100,
    sequential=1000,
    sequential_peer=200,
    import_runs=10,
    iter_keys=100_000,
    bulk_keys=1000,
    rate_limit=200.0,
    ceiling_requests=10_000,
    ceiling_concurrency=128,
    baseline=BASELINE,
)

QUICK = Settings(
    mode="quick",
    rounds=1,
    concurrency=64,
    seeded=200,
    warmup=64,
    gets=1000,
    gets_peer=64,
    creates=500,
    creates_peer=64,
    sequential=200,
    sequential_peer=30,
    import_runs=2,
    iter_keys=3000,
    bulk_keys=250,
    rate_limit=200.0,
    ceiling_requests=2000,
    ceiling_concurrency=128,
)
