"""The public surface: ``modelgates_async.__all__`` is the documented names, nothing private
leaks from ``modelgates_async.server``."""

from __future__ import annotations

import importlib
import types

import pytest

import modelgates_async
import modelgates_async.server

# DESIGN.md's public names, plus what the package already exported.
DOCUMENTED = {
    # clients and their namespaces
    "AsyncModelGates",
    "ModelGates",
    "AsyncAPIKeys",
    "APIKeys",
    "DEFAULT_BASE_URL",
    # arguments
    "RetryConfig",
    "KeySpec",
    "KeyUpdate",
    "NOT_GIVEN",
    "NotGiven",
    "LimitReset",
    "RetireMode",
    # records and their rules
    "APIKey",
    "CreatedKey",
    "CurrentKey",
    "KeyBudget",
    "FreeModelDailyRequests",
    "RateLimitInfo",
    "BulkItem",
    "BulkResult",
    "usage_in_limit_window",
    # interruptions and journals (issue 10)
    "partial_result_of",
    "read_journal",
    "JournalEntry",
    # observing calls: hook events and raw responses
    "RequestEvent",
    "ResponseEvent",
    "RetryEvent",
    "RawResponse",
    # errors
    "ModelGatesError",
    "InvalidRequestError",
    "APIConnectionError",
    "APITimeoutError",
    "APIResponseValidationError",
    "CreatedKeyValidationError",
    "BulkError",
    "RotationError",
    "PaginationError",
    "ClientClosedError",
    "UsageError",
    "NotStartedError",
    "OutcomeUnknownError",
    "JournalError",
    "JournalMismatchError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "InternalServerError",
    "__version__",
}


def _isort_key(name: str) -> tuple[int, str]:
    # ruff's RUF022 order: CONSTANTS, then Classes, then functions and dunders.
    group = 0 if name.isupper() else 1 if name[0].isupper() else 2
    return group, name


def test_all_is_exactly_the_documented_names_sorted() -> None:
    """__all__ holds each documented name once, in ruff's sorted order, and nothing else."""
    exported = modelgates_async.__all__
    assert set(exported) == DOCUMENTED
    assert len(exported) == len(set(exported))
    assert exported == sorted(exported, key=_isort_key)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_each_public_name_is_importable(name: str) -> None:
    """Every name of __all__ is an attribute of the package (``from ... import *`` works)."""
    namespace: dict[str, object] = {}
    exec(f"from modelgates_async import {name}", namespace)
    assert namespace[name] is getattr(modelgates_async, name)


def test_no_public_attribute_outside_all() -> None:
    """The package has no public attribute that __all__ forgets (submodules aside)."""
    public = {
        name
        for name, value in vars(modelgates_async).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public <= set(modelgates_async.__all__)


def test_errors_are_one_tree_in_errors_py() -> None:
    """Every exception the package exports lives in errors.py and derives from
    ModelGatesError."""
    errors = importlib.import_module("modelgates_async.errors")
    for name in modelgates_async.__all__:
        value = getattr(modelgates_async, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert value.__module__ == "modelgates_async.errors", name
            assert issubclass(value, modelgates_async.ModelGatesError), name
            assert name in errors.__all__


def test_server_all_exposes_nothing_private() -> None:
    """modelgates_async.server.__all__ names no private name, each is importable, and the
    package has no public attribute that __all__ forgets."""
    server = modelgates_async.server
    exported = server.__all__
    assert exported == sorted(exported, key=_isort_key)
    assert [name for name in exported if name.startswith("_")] == []
    for name in exported:
        getattr(server, name)
    public = {
        name
        for name, value in vars(server).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - {"annotations"} <= set(exported)
