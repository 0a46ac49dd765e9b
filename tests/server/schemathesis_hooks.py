"""Schemathesis hooks for ``test_schemathesis.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

The spec says in prose that ``PATCH /keys/{hash}`` refuses a body with none of the accepted
fields (400 "No update fields provided"), but its schema cannot say so (every field is
optional), so schemathesis takes ``{}`` for a valid update and flags the server's 400. The
fuzzing phases leave such bodies out (``filter_body``); the coverage phase does not call that
hook, so ``before_call`` gives its bodies the one field the prose asks for. The server's 400
for those bodies is pinned by ``test_server_keys.py`` instead.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from modelgates_async.server.validation import UPDATE_FIELDS


def lacks_update_fields(body: Any) -> bool:
    """Whether ``body`` is an object with none of the update fields and no name (a create
    body always has a name)."""
    if not isinstance(body, dict):
        return False
    return "name" not in body and not any(field in body for field in UPDATE_FIELDS)


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    """Keep a body unless it lacks every update field."""
    return not lacks_update_fields(body)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    """Give a coverage-phase PATCH body without an update field a harmless one."""
    if case.method.upper() == "PATCH" and lacks_update_fields(case.body):
        case.body = {**case.body, "disabled": False}
