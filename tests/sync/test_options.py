"""The sync facade's client options: read-only, as on the async client."""

from __future__ import annotations

import pytest

from modelgates_async import ModelGates, RetryConfig


@pytest.mark.parametrize(("name", "value"), [("timeout", 5.0), ("retries", RetryConfig.disabled())])
def test_facade_options_are_read_only_and_say_what_to_do(name: str, value: object) -> None:
    """Assigning ModelGates.timeout/.retries raises the async client's AttributeError, which
    names the per-call argument; the setting stays as it was."""
    with ModelGates(api_key="sk-test-key", base_url="http://127.0.0.1:9/api/v1", timeout=7.0) as mg:
        before = getattr(mg, name)
        with pytest.raises(AttributeError, match=rf"read-only: pass {name}=\.\.\. to a call"):
            setattr(mg, name, value)
        assert getattr(mg, name) == before
        assert mg.timeout == 7.0
