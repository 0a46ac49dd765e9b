"""Benchmarks of modelgates-async side by side with its peers (issue #6).

``python -m benchmarks`` (or ``nox -s bench``) starts the local server in its own process,
runs every contender on every scenario in fresh client processes, prints one table and
writes it to ``benchmarks/results/latest.{json,md}``. ``--quick`` is the smoke run CI uses.
"""
