"""Schemathesis hooks for ``test_schemathesis.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

The spec says in prose that a key name is "not blank"; its schema can only say
``minLength: 1``, so schemathesis takes ``" "`` or ``"\\x1c"`` for a valid name and flags the
server's 400. Generated bodies with a blank name are left out: the same rule the server and
the SDK apply (``str.strip()``), not a looser one.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    """Keep a body unless its ``name`` is a blank string."""
    name = body.get("name") if isinstance(body, dict) else None
    return not (isinstance(name, str) and not name.strip())
