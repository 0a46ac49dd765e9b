"""The sync-facade generator behind ``tools/gen_sync.py``.

- ``reading``: parse the package's source with ``ast`` and resolve names to classes/functions;
- ``model``: which sync classes to write and what each mirrors (bases and mixins included);
- ``writing``: expressions, docstrings and signatures in sync words, with their imports;
- ``rendering``: the classes and the whole module, formatted with ruff.
"""
