"""benchmarks/list_walk.py walks the pages as iter() does."""

from __future__ import annotations

from pathlib import Path

from benchmarks import list_walk
from modelgates_async.resources import _paging


async def test_the_walk_steps_as_iter_does_and_counts_each_key_once(tmp_path: Path) -> None:
    """Its step is iter()'s; a small walk sees every key once, in overlapping pages."""
    assert (list_walk.STEP, list_walk.PAGE) == (_paging.STEP, _paging.PAGE_SIZE)
    result = await list_walk.measure("memory", 250, tmp_path)
    # Offsets 0, 75, 150: the third page (keys 150-249) is full, the fourth (225-249) short.
    assert result["keys"] == 250
    assert result["pages"] == 4
