"""The pytest plugin as a user meets it, run in a pytest of its own (pytester): the server's
options overridden as the docs show, async fixtures failing clearly (never skipped) without
pytest-asyncio, and no deprecation warning of ours."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

AUTO_MODE = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

RATE_LIMITED = """
import pytest

from modelgates_async import RateLimitError, RetryConfig


@pytest.fixture{scope}
def modelgates_server_options():
    return {{"rate_limit": 2}}


def test_the_server_rate_limits(modelgates_client):
    with pytest.raises(RateLimitError):
        for _ in range(10):
            modelgates_client.api_keys.list(retries=RetryConfig.disabled())
"""

ASYNC_TESTS = """
import pytest


@pytest.mark.asyncio
async def test_marked(async_modelgates_client):
    assert await async_modelgates_client.api_keys.list() == []


async def test_unmarked(async_modelgates_client):
    assert await async_modelgates_client.api_keys.list() == []
"""


@pytest.mark.parametrize("scope", ["", '(scope="session")', '(scope="module")'])
def test_overriding_the_server_options_works_in_any_scope(
    pytester: pytest.Pytester, scope: str
) -> None:
    """A plain (function-scoped) override of modelgates_server_options, as the README shows,
    starts a server with those options; session and module overrides work as well."""
    pytester.makeini(AUTO_MODE)
    pytester.makepyfile(test_limited=RATE_LIMITED.format(scope=scope))
    pytester.makepyfile(test_default="def test_no_limit(modelgates_server):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_async_fixtures_without_pytest_asyncio_fail_instead_of_skipping(
    pytester: pytest.Pytester,
) -> None:
    """With pytest-asyncio disabled, a test using an async fixture errors with the set-up to
    do — it is never skipped, so CI cannot turn green by accident."""
    pytester.makepyfile(test_async=ASYNC_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:asyncio", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*needs pytest-asyncio*"])


def test_an_unmarked_async_test_in_strict_mode_fails_with_the_set_up(
    pytester: pytest.Pytester,
) -> None:
    """pytest-asyncio in strict mode: the marked test runs, the unmarked one fails saying to
    mark it or set asyncio_mode = auto."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_async=ASYNC_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*asyncio_mode*auto*"])


def test_a_users_run_has_no_deprecation_warning_of_ours(pytester: pytest.Pytester) -> None:
    """Every fixture used, with DeprecationWarning as an error: all pass, no warning."""
    pytester.makeini(AUTO_MODE)
    pytester.makepyfile(test_async=ASYNC_TESTS)
    pytester.makepyfile(
        test_sync="""
def test_sync(modelgates_server, modelgates_client, modelgates_no_backoff):
    assert modelgates_client.api_keys.list() == []


async def test_private_server(async_modelgates_server):
    assert async_modelgates_server.base_url
"""
    )
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-W",
        "error::DeprecationWarning",
        "-W",
        "error::PendingDeprecationWarning",
    )
    result.assert_outcomes(passed=4)
    assert "warnings summary" not in result.stdout.str()
