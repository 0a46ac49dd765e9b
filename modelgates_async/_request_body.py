"""The JSON bodies of a create and an update, and a list's query string, from checked arguments.

:func:`create_body` / :func:`update_body` take ``create()``'s / ``update()``'s keyword
arguments, run the checks of ``_validation`` on each one given and return what to send (or
raise :class:`InvalidRequestError` naming the argument) — before anything is sent.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._validation import (
    check_bool,
    check_expires_at,
    check_external,
    check_limit,
    check_limit_reset,
    check_name,
    check_optional_str,
    check_workspace_id,
)
from modelgates_async.errors import InvalidRequestError

__all__ = ["create_body", "query_string", "update_body"]


def _add_limit_fields(
    body: dict[str, Any], limit: Any, limit_reset: Any, include_byok_in_limit: Any
) -> None:
    """Check and add the limit's fields that are given (a create and an update share them)."""
    if not isinstance(limit, NotGiven):
        body["limit"] = check_limit(limit)
    if not isinstance(limit_reset, NotGiven):
        body["limit_reset"] = check_limit_reset(limit_reset)
    if not isinstance(include_byok_in_limit, NotGiven):
        body["include_byok_in_limit"] = check_bool(include_byok_in_limit, "include_byok_in_limit")


def create_body(
    name: Any,
    *,
    limit: Any = NOT_GIVEN,
    limit_reset: Any = NOT_GIVEN,
    include_byok_in_limit: Any = NOT_GIVEN,
    expires_at: Any = NOT_GIVEN,
    creator_user_id: Any = NOT_GIVEN,
    workspace_id: Any = NOT_GIVEN,
    external_user: Any = NOT_GIVEN,
    external_api_key: Any = NOT_GIVEN,
) -> dict[str, Any]:
    """The JSON body of a create, validated; raises InvalidRequestError naming the argument."""
    body: dict[str, Any] = {"name": check_name(name)}
    _add_limit_fields(body, limit, limit_reset, include_byok_in_limit)
    if not isinstance(expires_at, NotGiven):
        body["expires_at"] = check_expires_at(expires_at)
    if not isinstance(creator_user_id, NotGiven):
        body["creator_user_id"] = check_optional_str(creator_user_id, "creator_user_id")
    workspace = check_workspace_id(workspace_id)
    if workspace is not None:
        body["workspace_id"] = workspace
    external = check_external(external_user, external_api_key)
    if external is not None:
        body["external"] = external
    return body


def update_body(
    *,
    name: Any = NOT_GIVEN,
    disabled: Any = NOT_GIVEN,
    limit: Any = NOT_GIVEN,
    limit_reset: Any = NOT_GIVEN,
    include_byok_in_limit: Any = NOT_GIVEN,
    workspace_id: Any = NOT_GIVEN,
) -> dict[str, Any]:
    """The JSON body of an update, validated; refuses an update that changes nothing.

    ``workspace_id`` moves the key (a string; None is refused: a key always has one).
    """
    body: dict[str, Any] = {}
    if not isinstance(name, NotGiven):
        body["name"] = check_name(name)
    if not isinstance(disabled, NotGiven):
        body["disabled"] = check_bool(disabled, "disabled")
    _add_limit_fields(body, limit, limit_reset, include_byok_in_limit)
    if not isinstance(workspace_id, NotGiven):
        if workspace_id is None:
            raise InvalidRequestError(
                "workspace_id must be the id of the workspace to move the key to, got None",
                argument="workspace_id",
            )
        body["workspace_id"] = check_workspace_id(workspace_id)
    if not body:
        raise InvalidRequestError(
            "update() needs at least one of name, disabled, limit, limit_reset, "
            "include_byok_in_limit, workspace_id",
            argument="update",
        )
    return body


def query_string(params: dict[str, str]) -> str:
    """``?a=1&b=2`` with values percent-encoded, or ``""`` when there is nothing to send."""
    if not params:
        return ""
    return "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
