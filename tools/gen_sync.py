"""Write ``modelgates_async/_sync.py``, the synchronous facade, from the async classes.

    python tools/gen_sync.py           # (re)write the file
    python tools/gen_sync.py --check   # exit 1 with a unified diff when the file is stale

The generator reads the source of ``AsyncModelGates`` with ``ast`` and follows every
resource namespace it assigns in ``__init__`` (``self.api_keys = AsyncAPIKeys(...)``),
then writes one sync class per async class (``AsyncX`` → ``X``):

- every public ``async def`` becomes a ``def`` with the same name, parameters, defaults,
  annotations and docstring, whose body hands the *same* coroutine to the private loop
  (``Portal.run``); an async generator (or a method returning an async iterator) becomes a
  method returning a plain generator (``Portal.iterate``);
- ``aclose`` becomes ``close``, ``__aenter__``/``__aexit__`` become ``__enter__``/``__exit__``;
- public properties and public instance attributes become read-only properties;
- annotations name the sync classes, and ``AsyncIterator[Y]``/``AsyncIterable[Y]``/
  ``AsyncGenerator[Y, S]`` in return types become ``Generator[Y, None, None]`` /
  ``Generator[Y, S, None]`` (what the facade returns, ``.close()`` included).

- the members of base classes and mixins of an async class are mirrored too (its own
  first), so a resource may take its per-call options from a base and its use cases from a
  mixin; a property's setter is mirrored as a setter that assigns to the async object.

Nothing is listed by hand: a method added to an async class appears in the facade at the
next run. The output is passed through ``ruff check --fix --select I`` and ``ruff format``
so that ``--check`` compares exactly what is committed.

This file is the command; the generator is the ``gensync`` package beside it (reading the
source, the model of what to write, writing the pieces, rendering the module).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

# Run as a script, only tools/ is on sys.path; imported by the tests, ROOT is: this works for both.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gensync.reading import ROOT, GenerationError
from gensync.rendering import OUTPUT, generate
from gensync.writing import rename_text

__all__ = ["OUTPUT", "ROOT", "GenerationError", "generate", "main", "rename_text"]


def main(argv: list[str] | None = None) -> int:
    """Write ``_sync.py``, or with ``--check`` report (exit 1) when it is stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if _sync.py is stale")
    options = parser.parse_args(argv)
    try:
        expected = generate()
    except GenerationError as exc:
        print(f"gen_sync: {exc}", file=sys.stderr)
        return 2
    relative = str(OUTPUT.relative_to(ROOT))
    if options.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current == expected:  # the whole file, not line by line
            return 0
        diff = difflib.unified_diff(
            current.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{relative} (committed)",
            tofile=f"{relative} (generated)",
        )
        sys.stdout.writelines(diff)
        print(f"\n{relative} is stale: run python tools/gen_sync.py", file=sys.stderr)
        return 1
    OUTPUT.write_text(expected, encoding="utf-8")
    print(f"wrote {relative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
