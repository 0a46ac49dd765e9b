"""modelgates-async: the async-first Python SDK for ModelGates API-key management.

>>> async with AsyncModelGates() as mg:            # MODELGATES_API_KEY from the environment
...     created = await mg.api_keys.create("Tenant 42", limit=50, limit_reset="monthly")
"""

from modelgates_async._bulk import BulkItem, BulkResult, KeySpec, KeyUpdate, partial_result_of
from modelgates_async._client import DEFAULT_BASE_URL, AsyncModelGates
from modelgates_async._hooks import RequestEvent, ResponseEvent, RetryEvent
from modelgates_async._journal import JournalEntry, read_journal
from modelgates_async._raw import RawResponse
from modelgates_async._retry import RetryConfig
from modelgates_async._sync import APIKeys, ModelGates
from modelgates_async._types import NOT_GIVEN, NotGiven
from modelgates_async._version import __version__
from modelgates_async.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BulkError,
    ClientClosedError,
    ConflictError,
    CreatedKeyValidationError,
    InternalServerError,
    InvalidRequestError,
    JournalError,
    JournalMismatchError,
    ModelGatesError,
    NotFoundError,
    NotStartedError,
    OutcomeUnknownError,
    PaginationError,
    PermissionDeniedError,
    RateLimitError,
    RotationError,
    UsageError,
)
from modelgates_async.models import (
    APIKey,
    CreatedKey,
    CurrentKey,
    FreeModelDailyRequests,
    KeyBudget,
    LimitReset,
    RateLimitInfo,
    RetireMode,
    usage_in_limit_window,
)
from modelgates_async.resources.keys import AsyncAPIKeys

__all__ = [
    "DEFAULT_BASE_URL",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIKey",
    "APIKeys",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncAPIKeys",
    "AsyncModelGates",
    "AuthenticationError",
    "BadRequestError",
    "BulkError",
    "BulkItem",
    "BulkResult",
    "ClientClosedError",
    "ConflictError",
    "CreatedKey",
    "CreatedKeyValidationError",
    "CurrentKey",
    "FreeModelDailyRequests",
    "InternalServerError",
    "InvalidRequestError",
    "JournalEntry",
    "JournalError",
    "JournalMismatchError",
    "KeyBudget",
    "KeySpec",
    "KeyUpdate",
    "LimitReset",
    "ModelGates",
    "ModelGatesError",
    "NotFoundError",
    "NotGiven",
    "NotStartedError",
    "OutcomeUnknownError",
    "PaginationError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitInfo",
    "RawResponse",
    "RequestEvent",
    "ResponseEvent",
    "RetireMode",
    "RetryConfig",
    "RetryEvent",
    "RotationError",
    "UsageError",
    "__version__",
    "partial_result_of",
    "read_journal",
    "usage_in_limit_window",
]
