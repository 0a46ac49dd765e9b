"""``python -m modelgates_async.cli``: the ``modelgates`` command."""

from modelgates_async.cli import main

main()
